import { describe, expect, it } from 'vitest';
import { calculate } from './calculator.js';

describe('calculate', () => {
  it.each([
    ['12 + 30', 42],
    ['2 + 3 * 4', 14],
    ['(2 + 3) * 4', 20],
    ['2 ^ 3 ^ 2', 512],
    ['2 ** 10', 1024],
    ['-3 ^ 2', -9],
    ['10 / 4', 2.5],
    ['17 % 5', 2],
    ['1.5e3 - .5', 1499.5],
    ['-(4 - 6) * +2', 4],
    ['8 - 3 - 2', 3],
  ])('%s = %d (JavaScript precedence and associativity)', (expression, value) => {
    expect(calculate(expression)).toBe(value);
  });

  it('names the position and what it expected', () => {
    expect(() => calculate('2 +')).toThrow(
      'calculator: expected a number or "(" at token 3 of "2 +", got the end',
    );
    expect(() => calculate('(1 + 2')).toThrow('expected ")" at token 5');
    expect(() => calculate('2 x 3')).toThrow('expected an operator at token 2 of "2 x 3", got "x"');
    expect(() => calculate('process.exit()')).toThrow(SyntaxError);
    expect(() => calculate('')).toThrow('expected an expression');
  });

  it('refuses a result that is not finite', () => {
    expect(() => calculate('1 / 0')).toThrow('calculator: "1 / 0" is Infinity');
  });
});
