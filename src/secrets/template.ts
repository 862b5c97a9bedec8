// The target Secret template: text with `{{ .key }}` placeholders naming the default published keys.
// Nothing else is evaluated (no functions, no pipelines, no code), so a template can never execute
// anything or read anything but the connection's own published values.
import { CoffreError } from '../errors.ts';

const PLACEHOLDER = /\{\{\s*\.([A-Za-z0-9_]+)\s*\}\}/g;
const ANY_BRACES = /\{\{|\}\}/;

export class TemplateError extends CoffreError {
  constructor(message: string) {
    super('template_error', message, { retryable: false });
  }
}

/** The rendered data would exceed the size allowed: raised as soon as it does, before it is built. */
export class TemplateTooLargeError extends TemplateError {
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super(`the rendered data exceeds ${limitBytes} bytes`);
    this.limitBytes = limitBytes;
  }
}

/**
 * Renders every template value; throws TemplateError naming the template key and the unknown
 * placeholder. A template may copy a value many times: rendering stops with TemplateTooLargeError the
 * moment keys and values together pass `maxBytes`, so a hostile template cannot exhaust memory.
 */
export function renderTemplate(
  template: Readonly<Record<string, string>>,
  values: ReadonlyMap<string, string>,
  maxBytes = Number.POSITIVE_INFINITY,
): Map<string, string> {
  const rendered = new Map<string, string>();
  let total = 0;
  const count = (bytes: number) => {
    total += bytes;
    if (total > maxBytes) throw new TemplateTooLargeError(maxBytes);
  };
  for (const [key, text] of Object.entries(template)) {
    let unknown: string | undefined;
    count(Buffer.byteLength(key) + Buffer.byteLength(text.replace(PLACEHOLDER, '')));
    const output = text.replace(PLACEHOLDER, (_match, name: string) => {
      const value = values.get(name);
      if (value === undefined) {
        unknown ??= name;
        return '';
      }
      count(Buffer.byteLength(value));
      return value;
    });
    if (unknown !== undefined) {
      throw new TemplateError(
        `spec.target.template.data.${key}: unknown key .${unknown} (available: ${[...values.keys()].sort().join(', ')})`,
      );
    }
    const leftover = text.replace(PLACEHOLDER, '');
    if (ANY_BRACES.test(leftover)) {
      throw new TemplateError(`spec.target.template.data.${key}: only {{ .key }} placeholders are supported`);
    }
    rendered.set(key, output);
  }
  return rendered;
}
