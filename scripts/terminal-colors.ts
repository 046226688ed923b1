// Colour for what `npm start` and the demo print: only on a terminal, and never with NO_COLOR set.

export const tty = process.stdout.isTTY === true;
export const useColor = tty && process.env.NO_COLOR === undefined;
const paint =
  (code: string) =>
  (text: string): string =>
    useColor ? `\x1b[${code}m${text}\x1b[0m` : text;
export const bold = paint("1");
export const dim = paint("2");
export const green = paint("32");
export const red = paint("31");
export const yellow = paint("33");
