/**
 * The agent's calculator: evaluates an arithmetic expression — numbers (decimals, exponents),
 * + − × ÷ (`*`, `/`), `%` (remainder), `^` or `**` (power, right-associative), unary minus and
 * parentheses — by recursive descent, never with `eval`.
 *
 * @throws SyntaxError - anything else, naming the position and what was expected
 * @throws RangeError - a result that is not finite (division by zero, overflow)
 */
export function calculate(expression: string): number {
  const tokens =
    expression.match(/\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\*\*|\S/g) ?? [];
  let at = 0;
  const fail = (expected: string): never => {
    throw new SyntaxError(
      `calculator: expected ${expected} at token ${at + 1} of ${JSON.stringify(expression)}, got ${tokens[at] === undefined ? 'the end' : JSON.stringify(tokens[at])}`,
    );
  };
  const eat = (...ops: string[]) => (ops.includes(tokens[at]!) ? tokens[at++]! : undefined);

  const primary = (): number => {
    if (eat('(')) {
      const v = sum();
      if (!eat(')')) fail('")"');
      return v;
    }
    if (eat('-')) return -power();
    if (eat('+')) return power();
    const t = tokens[at];
    if (t === undefined || !/^[\d.]/.test(t)) return fail('a number or "("');
    at++;
    return Number(t);
  };
  const power = (): number => {
    const base = primary();
    return eat('^', '**') ? base ** power() : base;
  };
  const product = (): number => {
    let v = power();
    for (let op = eat('*', '/', '%'); op; op = eat('*', '/', '%')) {
      const r = power();
      v = op === '*' ? v * r : op === '/' ? v / r : v % r;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    for (let op = eat('+', '-'); op; op = eat('+', '-'))
      v = op === '+' ? v + product() : v - product();
    return v;
  };

  if (tokens.length === 0) fail('an expression');
  const value = sum();
  if (at < tokens.length) fail('an operator');
  if (!Number.isFinite(value))
    throw new RangeError(`calculator: ${JSON.stringify(expression)} is ${value}`);
  return value;
}
