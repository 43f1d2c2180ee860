import { describe, expect, it } from 'vitest';
import { applyChatTemplate } from './chat.js';

describe('chat templates', () => {
  it('ChatML and Llama-3 formats, with a generation prompt', () => {
    const msgs = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ] as const;
    expect(applyChatTemplate(msgs, 'chatml', { addGenerationPrompt: true })).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(applyChatTemplate(msgs, 'llama3')).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>',
    );
    expect(() => applyChatTemplate(msgs, 'vicuna' as never)).toThrow(
      /template must be 'chatml' or 'llama3'/,
    );
  });

  it('refuses unknown options', () => {
    expect(() => applyChatTemplate([], 'chatml', { addGenerationPromt: true } as never)).toThrow(
      'applyChatTemplate: unknown option "addGenerationPromt" (known options: addGenerationPrompt)',
    );
  });
});
