import type { Span } from './dsl-error.js';

export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%'
  | '==' | '!=' | '<' | '<=' | '>' | '>='
  | '&&' | '||' | '??' | '&' | 'in';

export type UnaryOp = '!' | '-';

/** An expression; every node carries the span of its text. */
export type Expr =
  | LiteralNode
  | ListNode
  | IdentifierNode
  | UnaryNode
  | BinaryNode
  | ConditionalNode
  | IndexNode
  | CallNode
  | LambdaNode;

export interface LiteralNode {
  readonly kind: 'literal';
  readonly value: null | boolean | number | string;
  readonly span: Span;
}

export interface ListNode {
  readonly kind: 'list';
  readonly items: ReadonlyArray<Expr>;
  readonly span: Span;
}

/** A lambda parameter, `dn`, or else an LDAP attribute (first value). Resolution is by that order. */
export interface IdentifierNode {
  readonly kind: 'identifier';
  readonly name: string;
  readonly span: Span;
}

export interface UnaryNode {
  readonly kind: 'unary';
  readonly op: UnaryOp;
  readonly operand: Expr;
  readonly span: Span;
}

export interface BinaryNode {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  readonly opSpan: Span;
  readonly span: Span;
}

export interface ConditionalNode {
  readonly kind: 'conditional';
  readonly test: Expr;
  readonly consequent: Expr;
  readonly alternate: Expr;
  readonly span: Span;
}

/** `list[i]`; on a bare attribute name, `mail[1]` is the attribute's second value. */
export interface IndexNode {
  readonly kind: 'index';
  readonly object: Expr;
  readonly index: Expr;
  readonly span: Span;
}

export interface CallNode {
  readonly kind: 'call';
  readonly callee: string;
  readonly calleeSpan: Span;
  readonly args: ReadonlyArray<Expr>;
  readonly span: Span;
}

/** `x => body`; the parser allows it only as a call argument, the checker only where a list function takes it. */
export interface LambdaNode {
  readonly kind: 'lambda';
  readonly param: string;
  readonly paramSpan: Span;
  readonly body: Expr;
  readonly span: Span;
}
