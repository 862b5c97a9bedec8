// Secret material as a type of its own. Its value is reachable only through reveal(); every way a value
// leaks by accident (string conversion, JSON, util.inspect, console.log, pino) prints a placeholder.
import { inspect } from 'node:util';

const REDACTED = '[redacted]';

export class SecretValue {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The secret itself. Call only where it is sent to its destination (a request body, a Secret). */
  reveal(): string {
    return this.#value;
  }

  get isBlank(): boolean {
    return this.#value.trim() === '';
  }

  equals(other: SecretValue | undefined): boolean {
    return other !== undefined && other.#value === this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

export function secret(value: string): SecretValue {
  return new SecretValue(value);
}
