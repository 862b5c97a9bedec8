// Questions on a terminal: answers typed in the open, or — for secrets — read without echo. The
// terminal is put in raw mode for the whole session so that nothing typed is ever echoed by the line
// discipline behind our back; visible answers are echoed by us, secret ones not at all.
import { CliError, ExitCode } from './errors.ts';
import type { Output } from './io.ts';

export interface Prompter {
  ask(question: string, options?: { secret?: boolean; defaultValue?: string }): Promise<string>;
  close(): void;
}

export function terminalPrompter(stdin: NodeJS.ReadStream, prompts: Output): Prompter {
  let buffer = '';
  let wake: (() => void) | undefined;
  let ended = false;
  const onData = (chunk: Buffer | string) => {
    buffer += chunk.toString();
    wake?.();
  };
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  stdin.resume();
  const nextChar = async (): Promise<string | undefined> => {
    while (buffer === '') {
      if (ended) return undefined;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    const char = buffer[0] ?? '';
    buffer = buffer.slice(1);
    return char;
  };
  return {
    async ask(question, { secret = false, defaultValue } = {}) {
      prompts.write(`${question}${defaultValue === undefined ? '' : ` [${defaultValue}]`}: `);
      let answer = '';
      for (;;) {
        const char = await nextChar();
        if (char === undefined || char === '\u0004') {
          if (answer === '')
            throw new CliError('input ended before every question was answered', ExitCode.Usage);
          break;
        }
        if (char === '\u0003') {
          prompts.write('\n');
          throw new CliError('interrupted', ExitCode.Interrupted);
        }
        if (char === '\r' || char === '\n') break;
        if (char === '\u007f' || char === '\b') {
          if (answer !== '') {
            answer = answer.slice(0, -1);
            if (!secret) prompts.write('\b \b');
          }
          continue;
        }
        if (char < ' ') continue;
        answer += char;
        if (!secret) prompts.write(char);
      }
      prompts.write('\n');
      return answer === '' && defaultValue !== undefined ? defaultValue : answer;
    },
    close() {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.setRawMode(false);
      stdin.pause();
    },
  };
}
