import { hasControlCharacter, type FieldViolation } from '@cinode/common';

/** Most violations one request reports (a message of thousands of bad strings answers with these). */
const MAX_VIOLATIONS = 20;

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Every string of a decoded request — field values, repeated items, map keys and values, at any
 * depth — that holds a control character, named by its proto field path
 * (`organization.contact_person.name`, `items[3]`, `attributes.zone`). Postgres refuses NUL
 * outright, and no field of the node's APIs has a use for the others; refusing them here keeps
 * every service's own checks about meaning.
 */
export function controlCharacterViolations(request: unknown): FieldViolation[] {
  // Almost every request is clean: find that out without building a single field path.
  if (!containsControlCharacter(request, 0)) return [];
  const violations: FieldViolation[] = [];
  const visit = (value: unknown, path: string, depth: number): void => {
    if (violations.length >= MAX_VIOLATIONS || depth > 32) return;
    if (typeof value === 'string') {
      if (hasControlCharacter(value))
        violations.push({ field: path, description: 'must not contain control characters' });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, `${path}[${index}]`, depth + 1));
      return;
    }
    if (!isPlainObject(value)) return; // bytes, numbers, booleans, null
    for (const [key, child] of Object.entries(value)) {
      // Keys are field names, or the caller's keys of a map field.
      if (hasControlCharacter(key)) {
        violations.push({
          field: path === '' ? '(request)' : path,
          description: 'must not have keys with control characters',
        });
        continue;
      }
      visit(child, path === '' ? snakeCase(key) : `${path}.${snakeCase(key)}`, depth + 1);
    }
  };
  visit(request, '', 0);
  return violations;
}

/** Whether any string (value or key) anywhere in the request holds a control character. */
function containsControlCharacter(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return hasControlCharacter(value);
  if (depth > 32) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (containsControlCharacter(item, depth + 1)) return true;
    return false;
  }
  if (!isPlainObject(value)) return false;
  for (const key in value) {
    if (hasControlCharacter(key) || containsControlCharacter(value[key], depth + 1)) return true;
  }
  return false;
}
