import { malformedIdentifier } from '../errors';
import { parseIdentifier } from '../format/identifier-format';

/** The canonical form of an identifier a caller typed (any case, surrounding blanks); INVALID_ARGUMENT otherwise. */
export function canonicalIdentifier(input: string): string {
  const parsed = parseIdentifier(input);
  if (!parsed.ok) throw malformedIdentifier(parsed.failure, parsed.message);
  return parsed.value.canonical;
}
