import { expandLocalEnvValue, secretReferences } from './service-manifest';

describe(expandLocalEnvValue.name, () => {
  it('replaces each secret reference and keeps the rest', () => {
    const calls: string[] = [];
    const value = expandLocalEnvValue(
      'key=${secret:a-key:api-key};raw=$HOME;${secret:b:base64-32}',
      (name, format) => {
        calls.push(`${name}/${format}`);
        return name.toUpperCase();
      },
    );
    expect(value).toBe('key=A-KEY;raw=$HOME;B');
    expect(calls).toEqual(['a-key/api-key', 'b/base64-32']);
  });

  it('leaves a value without references alone', () => {
    expect(expandLocalEnvValue('cinode-local-dev', () => 'never')).toBe('cinode-local-dev');
  });
});

describe(secretReferences.name, () => {
  it('lists the secrets a value names', () => {
    expect(secretReferences('${secret:a:api-key}-${secret:b:base64-32}')).toEqual([
      { name: 'a', format: 'api-key' },
      { name: 'b', format: 'base64-32' },
    ]);
    expect(secretReferences('plain')).toEqual([]);
  });
});
