/** Small built-in tasks to exercise the runner: two-digit arithmetic and a general-knowledge quiz. */

import { seededUniform } from './random.js';
import type { GenerationTask, MultipleChoiceTask } from './runner.js';

/** `count` additions and subtractions of two-digit numbers, answered by generation. */
export function arithmeticTask(count = 50, seed = 0): GenerationTask {
  const next = seededUniform(seed);
  const int = () => 10 + Math.floor(next() * 90);
  const docs = Array.from({ length: count }, () => {
    const [a, b] = [int(), int()];
    const add = next() < 0.5;
    return {
      prompt: `Q: What is ${a} ${add ? '+' : '-'} ${b}?\nA:`,
      targets: [String(add ? a + b : a - b)],
    };
  });
  return { name: 'arithmetic', kind: 'generation', docs, stop: ['\n'], maxTokens: 8 };
}

/** A ten-question general-knowledge quiz written for this project, scored by log-likelihood. */
export function knowledgeQuizTask(): MultipleChoiceTask {
  const q = (question: string, choices: string[], answer: number) => ({
    question,
    choices,
    answer,
  });
  return {
    name: 'knowledge-quiz',
    kind: 'multiple-choice',
    docs: [
      q('Which planet is known as the red planet?', ['Venus', 'Mars', 'Jupiter', 'Mercury'], 1),
      q('What is the chemical symbol for gold?', ['Ag', 'Gd', 'Au', 'Go'], 2),
      q('How many legs does a spider have?', ['six', 'eight', 'ten', 'twelve'], 1),
      q(
        'Which gas do plants take in for photosynthesis?',
        ['oxygen', 'nitrogen', 'carbon dioxide', 'helium'],
        2,
      ),
      q(
        'What is the largest ocean on Earth?',
        ['the Atlantic', 'the Indian Ocean', 'the Arctic', 'the Pacific'],
        3,
      ),
      q(
        'Who wrote the play Hamlet?',
        ['William Shakespeare', 'Charles Dickens', 'Jane Austen', 'Homer'],
        0,
      ),
      q(
        'What is water made of?',
        ['hydrogen and oxygen', 'carbon and oxygen', 'sodium and chlorine', 'iron'],
        0,
      ),
      q('How many minutes are in an hour?', ['sixty', 'thirty', 'one hundred', 'twenty-four'], 0),
      q('Which number is prime?', ['9', '15', '21', '13'], 3),
      q('At sea level, water boils at how many degrees Celsius?', ['50', '90', '100', '212'], 2),
    ],
  };
}
