// The DSL stage owns the list of target fields (and so the store's columns); the planner compares exactly those.
export { USER_FIELDS, GROUP_FIELDS } from '../dsl/index.js';
export type { TargetField } from '../dsl/index.js';
