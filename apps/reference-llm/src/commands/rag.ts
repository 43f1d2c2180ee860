import { join } from 'node:path';
import { Command, Option } from '@commander-js/extra-typings';
import { loadBeir } from '@tessera/rag/node';
import {
  backendOption,
  databaseUrlOption,
  integer,
  nonBlank,
  numberIn,
  retrievalMethodOption,
  withDevice,
} from '../command-options.js';
import { DEFAULT_DATA, readText } from '../data.js';
import { asLanguageModel } from '../language-model.js';
import { loadCheckpoint } from '../load.js';
import { answerPrompt } from '../rag/answer-prompt.js';
import { buildBenchmark, writeBenchmark } from '../rag/benchmark.js';
import {
  ANSWER_INSTRUCTIONS,
  answerAccuracy,
  choiceAccuracy,
  evaluateBenchmark,
  formatMetricsTable,
} from '../rag/evaluate-retrieval.js';
import { buildIndexFolder, openIndexFolder } from '../rag/index-folder.js';
import { INDEX_STORES } from '../rag/index-store.js';
import { checkNewFolder, writeNewFolder } from '../rag/new-folder.js';
import { describeMethod } from '../rag/retrieval-methods.js';
import {
  MODEL_FILES,
  readRetrievalModels,
  recordTuning,
  saveRetrievalModels,
  type TunedRetrieval,
} from '../rag/retrieval-models.js';
import {
  DEFAULT_ENCODER,
  RETRIEVAL_TRAINING,
  trainRetrievalModels,
} from '../rag/train-retrieval.js';

/**
 * The `--tune` split; a missing one, or the training split, is an error naming the option.
 * `evaluated`: the split `rag eval` scores, which tuning on would flatter.
 */
function loadTuning(bench: string, split: string, evaluated?: string) {
  if (split === 'train' || split === evaluated)
    throw new Error(
      `--tune ${split}: the method and weight chosen on the ${split === 'train' ? 'split the encoders train on' : 'split evaluated (--split)'} would flatter them; give a held-out split (rag bench writes dev)`,
    );
  return loadBeir(bench, split).catch((e: Error) => {
    throw new Error(
      `--tune ${split}: ${e.message}; give a split the encoders do not train on (rag bench writes dev)`,
    );
  });
}

const benchCommand = () =>
  new Command('bench')
    .summary(
      'build the retrieval benchmark from the bundled plays (BEIR files, train and test qrels)',
    )
    .requiredOption('--out <dir>', 'folder for corpus.jsonl, queries.jsonl and qrels/')
    .option('--data <file>', 'play text to draw speeches from (default: the bundled text)')
    .addOption(
      new Option('--passages <n>', 'passages in the corpus').argParser(integer(10)).default(1000),
    )
    .addOption(
      new Option('--heldout <fraction>', 'share of the passages whose questions are the test split')
        .argParser(numberIn({ above: 0, atMost: 0.9 }))
        .default(0.2),
    )
    .addOption(
      new Option(
        '--dev <fraction>',
        'share of the passages whose questions are the dev split (where rag eval tunes the fusion weight)',
      )
        .argParser(numberIn({ above: 0, atMost: 0.9 }))
        .default(0.1),
    )
    .addOption(
      new Option('--train-questions <n>', 'questions about each training passage')
        .argParser(integer(1))
        .default(4),
    )
    .addOption(new Option('--seed <n>', 'seed of the draw').argParser(integer(0)).default(19))
    .option('--force', 'replace --out if it exists')
    .action(async (o) => {
      const out = { what: 'the benchmark', force: o.force === true };
      checkNewFolder(o.out, out);
      const bench = buildBenchmark(readText(o.data ?? DEFAULT_DATA), {
        passages: o.passages,
        heldout: o.heldout,
        dev: o.dev,
        trainQuestions: o.trainQuestions,
        seed: o.seed,
      });
      await writeNewFolder(o.out, out, (dir) => writeBenchmark(dir, bench));
      const count = (split: 'train' | 'dev' | 'test') => Object.keys(bench.qrels[split]).length;
      console.log(
        `${o.out}: ${bench.corpus.length} passages; ${count('train')} training, ${count('dev')} dev and ${count('test')} test questions`,
      );
    });

const trainCommand = () =>
  new Command('train')
    .summary(
      'train the bi-encoder (InfoNCE, in-batch negatives) and the cross-encoder reranker (BM25 hard and random negatives)',
    )
    .requiredOption('--bench <dir>', 'a BEIR folder with qrels/train.tsv (see "rag bench")')
    .requiredOption('--out <dir>', 'folder for the tokenizer and both models')
    .addOption(
      new Option('--steps <n>', 'bi-encoder steps')
        .argParser(integer(1))
        .default(RETRIEVAL_TRAINING.steps),
    )
    .addOption(
      new Option('--rerank-steps <n>', 'reranker steps')
        .argParser(integer(1))
        .default(RETRIEVAL_TRAINING.rerankSteps),
    )
    .addOption(
      new Option('--batch-size <n>', 'questions per step')
        .argParser(integer(2))
        .default(RETRIEVAL_TRAINING.batchSize),
    )
    .addOption(
      new Option('--lr <rate>', "the bi-encoder's AdamW learning rate")
        .argParser(numberIn({ above: 0 }))
        .default(RETRIEVAL_TRAINING.lr),
    )
    .addOption(
      new Option('--rerank-lr <rate>', "the reranker's AdamW learning rate")
        .argParser(numberIn({ above: 0 }))
        .default(RETRIEVAL_TRAINING.rerankLr),
    )
    .addOption(
      new Option('--temperature <t>', 'InfoNCE temperature')
        .argParser(numberIn({ above: 0 }))
        .default(RETRIEVAL_TRAINING.temperature),
    )
    .addOption(
      new Option(
        '--negatives <n>',
        'reranker negatives per question, drawn afresh at each step (half among BM25 hard negatives, half random)',
      )
        .argParser(integer(1))
        .default(RETRIEVAL_TRAINING.negatives),
    )
    .addOption(
      new Option('--vocab-size <n>', 'BPE vocabulary')
        .argParser(integer(260))
        .default(RETRIEVAL_TRAINING.vocabSize),
    )
    .addOption(
      new Option('--d-model <n>', 'encoder width')
        .argParser(integer(8))
        .default(DEFAULT_ENCODER.dModel),
    )
    .addOption(
      new Option('--layers <n>', 'encoder blocks')
        .argParser(integer(1))
        .default(DEFAULT_ENCODER.layers),
    )
    .addOption(
      new Option('--seed <n>', 'seed of the batches')
        .argParser(integer(0))
        .default(RETRIEVAL_TRAINING.seed),
    )
    .option(
      '--tune <name>',
      'qrels split (not trained on) where the default retrieval of "rag query" and "agent" is chosen after training: the dense weight of weighted fusion, then the best method; recorded in retrieval.json',
      'dev',
    )
    .option(
      '--force',
      'replace --out if it exists (indexes built with the old models then refuse to open)',
    )
    .addOption(backendOption())
    .action(async (o) => {
      const out = { what: 'the models', force: o.force === true };
      checkNewFolder(o.out, out);
      await withDevice(o.backend, async (device) => {
        const data = await loadBeir(o.bench, 'train');
        const tuning = await loadTuning(o.bench, o.tune);
        const models = await trainRetrievalModels(data, device, {
          model: { ...DEFAULT_ENCODER, dModel: o.dModel, layers: o.layers },
          vocabSize: o.vocabSize,
          steps: o.steps,
          rerankSteps: o.rerankSteps,
          batchSize: o.batchSize,
          lr: o.lr,
          rerankLr: o.rerankLr,
          temperature: o.temperature,
          negatives: o.negatives,
          seed: o.seed,
          tune: { split: o.tune, data: tuning },
        });
        await writeNewFolder(o.out, out, (dir) => saveRetrievalModels(dir, models));
        const t = models.manifest.training as { biEncoderLoss: number[]; rerankerLoss: number[] };
        console.log(
          `${o.out}: bi-encoder loss ${t.biEncoderLoss[0]!.toFixed(3)} → ${t.biEncoderLoss.at(-1)!.toFixed(3)}, reranker loss ${t.rerankerLoss[0]!.toFixed(3)} → ${t.rerankerLoss.at(-1)!.toFixed(3)}`,
        );
        console.log(describeTuning(models.manifest.tuned!));
      });
    });

const indexCommand = () =>
  new Command('index')
    .summary(
      'chunk a text file or BEIR corpus.jsonl, embed the chunks, store them (HNSW: ours or hnswlib; LanceDB; pgvector; BM25)',
    )
    .requiredOption('--data <file>', 'a text file, or a BEIR corpus.jsonl')
    .requiredOption('--models <dir>', 'folder written by "rag train"')
    .requiredOption('--out <dir>', 'a new folder for the index')
    .addOption(
      new Option(
        '--store <kind>',
        "vector store: hnsw (this project's HNSW, plain TypeScript), hnswlib (hnswlib's C++ through hnswlib-node: the same recall, about 2x the queries per second), lancedb (LanceDB's embedded database in the index folder, exact search; @lancedb/lancedb) or pgvector (a PostgreSQL table with pgvector, exact search; pg, --database-url); default hnswlib where hnswlib-node is installed, else hnsw",
      ).choices(INDEX_STORES),
    )
    .addOption(databaseUrlOption())
    .addOption(backendOption())
    .action(async (o) => {
      await withDevice(o.backend, async (device) => {
        const m = await buildIndexFolder(o.out, o.data, o.models, device, {
          store: o.store,
          databaseUrl: o.databaseUrl,
        });
        console.log(
          `${o.out}: ${m.chunks} chunks of ${m.documents} documents (≤ ${m.chunkSize} tokens each), store ${m.store}`,
        );
      });
    });

const queryCommand = () =>
  new Command('query')
    .summary(
      "retrieve (by default with the method the models' tuning chose), print the passages with scores and citations, then answer",
    )
    .argument('<question>', 'what to retrieve passages for (not empty)', nonBlank)
    .requiredOption('--index <dir>', 'folder written by "rag index"')
    .option(
      '--checkpoint <dir>',
      'a language model run folder to write the answer (none: passages only)',
    )
    .addOption(retrievalMethodOption())
    .addOption(
      new Option('-k, --top-k <k>', 'passages to retrieve').argParser(integer(1)).default(3),
    )
    .addOption(databaseUrlOption())
    .addOption(
      new Option(
        '--max-new-tokens <n>',
        "answer length; the prompt gets the rest of the model's window (passages that do not fit are left out, lowest-ranked first)",
      )
        .argParser(integer(1))
        .default(16),
    )
    .addOption(backendOption())
    .action(async (question, o) => {
      await withDevice(o.backend, async (device) => {
        const lm = o.checkpoint ? loadCheckpoint(o.checkpoint, device) : undefined;
        const index = await openIndexFolder(o.index, device, {
          method: o.method,
          databaseUrl: o.databaseUrl,
        });
        console.log(`method: ${describeMethod(index.method, index.denseWeight)}`);
        const hits = await index.retriever
          .search(question, o.topK)
          .catch((e: Error) => {
            throw new Error(`question: ${e.message}`, { cause: e });
          })
          .finally(() => index.close());
        const print = (h: (typeof hits)[number], label: string) => {
          console.log(`${label} ${h.score.toFixed(3)}  ${h.sourceId ?? h.id}:${h.start}-${h.end}`);
          console.log(`    ${h.text.replace(/\n/g, '\n    ')}`);
        };
        if (!lm) {
          for (const [i, h] of hits.entries()) print(h, `[${i + 1}]`);
          return;
        }
        const { model, tokenizer } = lm;
        const fitted = answerPrompt(question, hits, {
          tokenizer,
          window: model.config.maxSeqLen,
          maxNewTokens: o.maxNewTokens,
          instructions: ANSWER_INSTRUCTIONS,
        });
        for (const [i, h] of hits.entries())
          print(h, i < fitted.citations.length ? `[${i + 1}]` : '[-]');
        console.log(
          `prompt: ${fitted.citations.length} of ${hits.length} passages fit (${fitted.tokens} tokens of the ${fitted.budget} that the ${model.config.maxSeqLen}-token window leaves beside ${o.maxNewTokens} new tokens${fitted.citations.length < hits.length ? '; [-] left out, lowest-ranked first' : ''})`,
        );
        const answer = await asLanguageModel(model, tokenizer, o.checkpoint!).generate(
          fitted.prompt,
          { maxTokens: o.maxNewTokens, stop: ['\n\n'] },
        );
        console.log(`answer: ${answer.trim()}`);
      });
    });

const evalCommand = () =>
  new Command('eval')
    .summary(
      'nDCG@10, recall@10 and MRR of bm25, dense, hybrid-rrf, hybrid-weighted and hybrid-rerank on a BEIR split',
    )
    .requiredOption('--bench <dir>', 'a BEIR folder (see "rag bench")')
    .requiredOption('--models <dir>', 'folder written by "rag train"')
    .option('--split <name>', 'qrels split to evaluate', 'test')
    .option(
      '--tune <name>',
      'qrels split (not trained on) where the dense weight of weighted fusion and the default method of "rag query" and "agent" are chosen again and recorded in retrieval.json (default: use the recorded choice; where none is recorded, choose it on dev and record it)',
    )
    .option(
      '--checkpoint <dir>',
      'also score generated answers with and without retrieval (language model run folder)',
    )
    .addOption(
      new Option('--answers <n>', 'questions to answer with --checkpoint')
        .argParser(integer(1))
        .default(50),
    )
    .addOption(backendOption())
    .action(async (o) => {
      await withDevice(o.backend, async (device) => {
        const models = readRetrievalModels(o.models, device);
        const manifest = join(o.models, MODEL_FILES.manifest);
        // --tune, or models trained before the choice was recorded: choose again, and record it.
        const split = o.tune ?? (models.manifest.tuned ? undefined : 'dev');
        const tuning =
          split === undefined
            ? undefined
            : { split, data: await loadTuning(o.bench, split, o.split) };
        await loadBeir(o.bench, o.split).catch((e: Error) => {
          throw new Error(`--split ${o.split}: ${e.message}`);
        });
        const { figures, data, retrievers } = await evaluateBenchmark(o.bench, models, {
          split: o.split,
          tuning,
        });
        const tuned = figures.tuned;
        if (split !== undefined) {
          recordTuning(o.models, tuned);
          console.log(`${describeTuning(tuned)}; recorded in ${manifest}`);
        } else console.log(`${describeTuning(tuned)}, as recorded in ${manifest}`);
        console.log(
          `${figures.questions} questions of ${join(o.bench, 'qrels', `${o.split}.tsv`)}, ${figures.passages} passages\n`,
        );
        console.log(formatMetricsTable(figures.rows));
        if (!o.checkpoint) return;
        const answersOf = new Map(
          readText(join(o.bench, 'queries.jsonl'))
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { _id: string; metadata?: { answer?: string } })
            .map((q) => [q._id, q.metadata?.answer]),
        );
        const questions = [...data.queries]
          .filter(([id]) => answersOf.get(id))
          .slice(0, o.answers)
          .map(([id, question]) => ({ question, answer: answersOf.get(id)! }));
        // The readers read what "rag query" retrieves: the method chosen on the tuning split.
        const retriever = retrievers[tuned.method];
        const { model, tokenizer } = loadCheckpoint(o.checkpoint, device);
        const lm = asLanguageModel(model, tokenizer, o.checkpoint);
        const window = model.config.maxSeqLen;
        const settings = { k: 3, tokenizer, window, maxTokens: 8 };
        const without = await answerAccuracy(lm, questions, undefined, settings);
        const withRag = await answerAccuracy(lm, questions, retriever, settings);
        const percent = (x: number) => `${(100 * x).toFixed(1)}%`;
        console.log(
          `\nanswer accuracy on ${questions.length} held-out questions, retrieving with ${tuned.method} (the best nDCG@10 on ${tuned.split}), top 3:`,
        );
        console.log(
          `- generated (greedy, 8 tokens): ${percent(without.accuracy)} without retrieval, ${percent(withRag.accuracy)} with (the cited prompt, fitted as rag query fits it, fit the ${window}-token window for ${withRag.fitted} of ${questions.length} questions${withRag.fitted < questions.length ? '; the others count as wrong' : ''})`,
        );
        const choice = { k: 3, passages: false };
        const names = await choiceAccuracy(lm, questions, retriever, data.corpus, choice);
        const read = await choiceAccuracy(lm, questions, retriever, data.corpus, {
          ...choice,
          passages: true,
        });
        console.log(
          `- a choice among the retrieved speakers by log P(question | context): ${percent(names.accuracy)} from the names alone, ${percent(read.accuracy)} from the passages (chance ${percent(read.chance)}; the answer is among the candidates for ${percent(read.reachable)})`,
        );
      });
    });

/** The tuned retrieval in a line: the dense weight and the method, with the nDCG@10 that chose them. */
function describeTuning(t: TunedRetrieval): string {
  const weights = t.weights.map((w) => `${w.weight}: ${w.ndcg.toFixed(3)}`).join(', ');
  const methods = Object.entries(t.methods)
    .map(([m, ndcg]) => `${m} ${ndcg.toFixed(3)}`)
    .join(', ');
  return `dense weight of weighted fusion: ${t.denseWeight} (nDCG@10 on the ${t.questions} questions of ${t.split}: ${weights})\nmethod of "rag query" and "agent": ${t.method} (nDCG@10 on ${t.split}: ${methods})`;
}

export const ragCommand = () =>
  new Command('rag')
    .summary('retrieval-augmented generation: benchmark, train encoders, index, query, evaluate')
    .addCommand(benchCommand())
    .addCommand(trainCommand())
    .addCommand(indexCommand())
    .addCommand(queryCommand())
    .addCommand(evalCommand());
