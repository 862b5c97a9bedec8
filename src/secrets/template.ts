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

/** Renders every template value; throws TemplateError naming the template key and the unknown placeholder. */
export function renderTemplate(
  template: Readonly<Record<string, string>>,
  values: ReadonlyMap<string, string>,
): Map<string, string> {
  const rendered = new Map<string, string>();
  for (const [key, text] of Object.entries(template)) {
    let unknown: string | undefined;
    const output = text.replace(PLACEHOLDER, (_match, name: string) => {
      const value = values.get(name);
      if (value === undefined) {
        unknown ??= name;
        return '';
      }
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
