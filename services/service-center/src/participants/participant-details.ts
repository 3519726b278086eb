import { FieldChecks } from '@cinode/common';
import {
  ParticipantKind,
  UserCategory,
  type IndividualDetails,
  type OrganizationDetails,
  type Person,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { creditCodeProblem } from './credit-code';
import { identityNumberProblem } from './identity-number';
import type { IndividualRecord, OrganizationRecord, PersonRecord } from './participant.entity';

const MOBILE = /^1[3-9]\d{9}$/;
// Deliberately loose: one @, no spaces, a dot in the domain. Deliverability is checked by mail.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const REGISTRABLE_KINDS = [
  ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER,
  ParticipantKind.PARTICIPANT_KIND_RESELLER,
  ParticipantKind.PARTICIPANT_KIND_APPLICATION_PROVIDER,
  ParticipantKind.PARTICIPANT_KIND_LINE_PROVIDER,
  ParticipantKind.PARTICIPANT_KIND_USER,
];

const USER_CATEGORIES = [
  UserCategory.USER_CATEGORY_INDIVIDUAL,
  UserCategory.USER_CATEGORY_UNIVERSITY,
  UserCategory.USER_CATEGORY_RESEARCH_INSTITUTE,
  UserCategory.USER_CATEGORY_ENTERPRISE,
];

/** What a registration or resubmission carries, whatever RPC brought it. */
export interface DetailsInput {
  kind: ParticipantKind;
  userCategory: UserCategory;
  name: string;
  organization: OrganizationDetails | undefined | null;
  individual: IndividualDetails | undefined | null;
}

export interface NormalizedDetails {
  userCategory: number;
  name: string;
  organization: OrganizationRecord | null;
  individual: IndividualRecord | null;
}

export function isIndividual(kind: ParticipantKind, category: UserCategory): boolean {
  return (
    kind === ParticipantKind.PARTICIPANT_KIND_USER &&
    category === UserCategory.USER_CATEGORY_INDIVIDUAL
  );
}

export function checkMobile(checks: FieldChecks, field: string, value: string): void {
  checks.text(field, value, {
    max: 11,
    pattern: MOBILE,
    patternHint: 'must be an 11-digit mainland mobile number',
  });
}

export function checkEmail(checks: FieldChecks, field: string, value: string): void {
  checks.text(field, value, { max: 254, pattern: EMAIL, patternHint: 'must be an e-mail address' });
}

export function checkPerson(
  checks: FieldChecks,
  field: string,
  person: Person | undefined | null,
): void {
  if (!person) {
    checks.add(field, 'is required');
    return;
  }
  checks.text(`${field}.name`, person.name.trim(), { max: 100 });
  checks.text(`${field}.title`, person.title.trim(), { max: 100 });
  checkMobile(checks, `${field}.mobile`, person.mobile.trim());
  checkEmail(checks, `${field}.email`, person.email.trim());
}

export function checkCreditCode(checks: FieldChecks, field: string, value: string): void {
  const code = value.trim().toUpperCase();
  if (code === '') checks.add(field, 'is required');
  else {
    const problem = creditCodeProblem(code);
    if (problem) checks.add(field, problem);
  }
}

export function checkIdentityNumber(checks: FieldChecks, field: string, value: string): void {
  const number = value.trim().toUpperCase();
  if (number === '') checks.add(field, 'is required');
  else {
    const problem = identityNumberProblem(number);
    if (problem) checks.add(field, problem);
  }
}

function person(p: Person): PersonRecord {
  return {
    name: p.name.trim(),
    title: p.title.trim(),
    mobile: p.mobile.trim(),
    email: p.email.trim(),
  };
}

/**
 * Validates a participant's details for its kind, reporting every bad field at once, and returns
 * them normalised (trimmed, codes upper-cased). `prefix` is "" for CreateParticipant's fields.
 */
export function checkDetails(
  checks: FieldChecks,
  input: DetailsInput,
): NormalizedDetails | undefined {
  checks.text('name', input.name.trim(), { max: 200 });
  if (input.kind === ParticipantKind.PARTICIPANT_KIND_USER) {
    checks.enumValue('user_category', input.userCategory, USER_CATEGORIES);
  } else if (input.userCategory !== UserCategory.USER_CATEGORY_UNSPECIFIED) {
    checks.add('user_category', 'must be unset for participants that are not users');
  }
  const individual = isIndividual(input.kind, input.userCategory);
  if (individual) {
    if (input.organization) checks.add('organization', 'must be unset for an individual');
    if (!input.individual) checks.add('individual', 'is required for an individual user');
    else {
      checkIdentityNumber(checks, 'individual.identity_number', input.individual.identityNumber);
      checkMobile(checks, 'individual.mobile', input.individual.mobile.trim());
      checkEmail(checks, 'individual.email', input.individual.email.trim());
    }
  } else {
    if (input.individual) checks.add('individual', 'must be unset for an organisation');
    if (!input.organization) checks.add('organization', 'is required for an organisation');
    else {
      checkCreditCode(checks, 'organization.credit_code', input.organization.creditCode);
      checks.text('organization.address', input.organization.address.trim(), { max: 500 });
      checkPerson(checks, 'organization.contact_person', input.organization.contactPerson);
      checkPerson(checks, 'organization.responsible_person', input.organization.responsiblePerson);
    }
  }
  checks.throwIfAny();
  const org = input.organization;
  const ind = input.individual;
  return {
    userCategory: input.userCategory,
    name: input.name.trim(),
    organization:
      !individual && org && org.contactPerson && org.responsiblePerson
        ? {
            creditCode: org.creditCode.trim().toUpperCase(),
            address: org.address.trim(),
            contactPerson: person(org.contactPerson),
            responsiblePerson: person(org.responsiblePerson),
          }
        : null,
    individual:
      individual && ind
        ? {
            identityNumber: ind.identityNumber.trim().toUpperCase(),
            mobile: ind.mobile.trim(),
            email: ind.email.trim(),
          }
        : null,
  };
}
