export { planUsers, desiredEnabled, holdsRecord, streamedFirstPlan, unchangedUserPlan } from './plan-users.js';
export type { PlanUsersInput, StreamedFirstPlanInput } from './plan-users.js';
export { planGroups } from './plan-groups.js';
export type { PlanGroupsInput } from './plan-groups.js';
export { evaluateGuard } from './delete-guard.js';
export type { GuardInput } from './delete-guard.js';
export { sameValue } from './same-value.js';
export { USER_FIELDS, GROUP_FIELDS } from './fields.js';
export type { TargetField } from './fields.js';
export type {
  ConflictCause,
  DeleteGuard,
  DesiredGroup,
  DesiredUser,
  FieldChange,
  FieldChanges,
  GroupChange,
  GroupCreate,
  GroupPlan,
  GroupPlanCounts,
  GroupRemove,
  GroupUpdate,
  LoginHolder,
  MappedRecord,
  MemberCandidate,
  MemberRef,
  MembershipChange,
  MissingRow,
  PlanCounts,
  RowId,
  Skip,
  StoredGroup,
  StoredUser,
  StoredUserSummary,
  StoredGroupSummary,
  MatchedGroup,
  MatchedUser,
  UnresolvedMember,
  UserChange,
  UserConflict,
  UserCreate,
  UserPlan,
  UserRemove,
  UserUpdate,
} from './types.js';
