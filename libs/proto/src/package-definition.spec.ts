import type { MethodDefinition } from '@grpc/proto-loader';
import { cinodePackageDefinition } from './package-definition';

function method(service: string, name: string): MethodDefinition<object, object> {
  const definition = cinodePackageDefinition()[service] as Record<
    string,
    MethodDefinition<object, object>
  >;
  return definition[name];
}

describe(cinodePackageDefinition.name, () => {
  it('gives messages the camelCase shape of the generated types', () => {
    const register = method('cinode.national.v1.NationalNodeService', 'RegisterNode');
    const bytes = register.requestSerialize({ nodeKey: 'k', regionCode: '310000' });
    expect(register.requestDeserialize(bytes)).toMatchObject({
      nodeKey: 'k',
      regionCode: '310000',
      name: '',
    });
  });

  it('carries a FieldMask as the string[] the generated types declare', () => {
    const update = method('cinode.participant.v1.ParticipantService', 'UpdateParticipant');
    const bytes = update.requestSerialize({ updateMask: ['name', 'contact.email'] });
    expect(update.requestDeserialize(bytes)).toMatchObject({
      updateMask: ['name', 'contact.email'],
    });
  });
});
