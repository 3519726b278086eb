import { controlCharacterViolations } from './request-text';

describe(controlCharacterViolations.name, () => {
  it('names every string holding a control character by its proto field path', () => {
    expect(
      controlCharacterViolations({
        requestId: 'ok',
        name: 'a\u0000b',
        organization: { contactPerson: { name: 'x\u001by', mobile: '138' }, address: 'fine' },
        tags: ['fine', 'bad\u007f'],
        attributes: { zone: 'east\u0008' },
      }),
    ).toEqual([
      { field: 'name', description: 'must not contain control characters' },
      {
        field: 'organization.contact_person.name',
        description: 'must not contain control characters',
      },
      { field: 'tags[1]', description: 'must not contain control characters' },
      { field: 'attributes.zone', description: 'must not contain control characters' },
    ]);
  });

  it('lets tabs, line breaks, Unicode text, numbers and bytes through', () => {
    expect(
      controlCharacterViolations({
        reason: 'line one\nline two\r\n\tindented',
        name: '算力互联互通节点 ✓',
        pageSize: 0,
        ratio: Number.NaN,
        payload: Buffer.from([0, 1, 2]),
        nested: null,
      }),
    ).toEqual([]);
  });

  it('refuses map keys with control characters, and stops counting at twenty', () => {
    expect(controlCharacterViolations({ attributes: { 'k\u0000': 'v' } })).toEqual([
      { field: 'attributes', description: 'must not have keys with control characters' },
    ]);
    const many = Array.from({ length: 5_000 }, () => '\u0000');
    expect(controlCharacterViolations({ items: many })).toHaveLength(20);
  });
});
