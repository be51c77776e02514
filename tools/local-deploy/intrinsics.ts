/**
 * The part of CloudFormation's intrinsic functions that custom-resource properties of CDK apps use.
 * Anything else is rejected up front, so a test never runs against a half-resolved template.
 */

/** What `{ Ref: 'AWS::NoValue' }` resolves to: the enclosing property or list element disappears. */
export const NO_VALUE = Symbol('AWS::NoValue');

export const PSEUDO_PARAMETERS: readonly string[] = [
  'AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region',
  'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix',
];

const SUPPORTED_FUNCTIONS: readonly string[] = ['Ref', 'Fn::GetAtt', 'Fn::Join', 'Fn::Select', 'Fn::Split', 'Fn::Sub', 'Fn::FindInMap'];

export interface IntrinsicContext {
  readonly mappings?: Record<string, Record<string, Record<string, unknown>>>;
  /** A parameter, pseudo parameter or resource. */
  ref(name: string): unknown;
  getAtt(logicalId: string, attribute: string): unknown;
}

export class IntrinsicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntrinsicError';
  }
}

function intrinsicName(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::')) ? keys[0] : undefined;
}

function parseGetAtt(argument: unknown): [string, string] {
  if (typeof argument === 'string' && argument.includes('.')) {
    const dot = argument.indexOf('.');
    return [argument.slice(0, dot), argument.slice(dot + 1)];
  }
  if (Array.isArray(argument) && argument.length === 2 && typeof argument[0] === 'string' && typeof argument[1] === 'string') {
    return [argument[0], argument[1]];
  }
  throw new IntrinsicError(`malformed Fn::GetAtt ${JSON.stringify(argument)}`);
}

function subParts(argument: unknown): { text: string; variables: Record<string, unknown> } {
  if (typeof argument === 'string') return { text: argument, variables: {} };
  if (Array.isArray(argument) && typeof argument[0] === 'string' && typeof argument[1] === 'object' && argument[1] !== null) {
    return { text: argument[0], variables: argument[1] as Record<string, unknown> };
  }
  throw new IntrinsicError(`malformed Fn::Sub ${JSON.stringify(argument)}`);
}

/** The `${...}` names of an `Fn::Sub` string that are not its own variables nor `${!literal}` escapes. */
function subReferences(text: string, variables: Record<string, unknown>): string[] {
  return [...text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]).filter((name) => !name.startsWith('!') && !(name in variables));
}

function asScalarString(value: unknown, where: string): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new IntrinsicError(`${where}: expected a string, got ${JSON.stringify(value)}`);
}

function asList(value: unknown, where: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw new IntrinsicError(`${where}: expected a list, got ${JSON.stringify(value)}`);
}

function resolveFunction(name: string, argument: unknown, context: IntrinsicContext): unknown {
  switch (name) {
    case 'Ref':
      if (typeof argument !== 'string') throw new IntrinsicError(`malformed Ref ${JSON.stringify(argument)}`);
      return context.ref(argument);
    case 'Fn::GetAtt':
      return context.getAtt(...parseGetAtt(argument));
    case 'Fn::Join': {
      const [delimiter, list] = asList(argument, 'Fn::Join');
      return asList(resolveValue(list, context), 'Fn::Join').map((item) => asScalarString(item, 'Fn::Join')).join(String(delimiter));
    }
    case 'Fn::Select': {
      const [index, list] = asList(argument, 'Fn::Select');
      const items = asList(resolveValue(list, context), 'Fn::Select');
      const position = Number(resolveValue(index, context));
      if (!Number.isInteger(position) || position < 0 || position >= items.length) {
        throw new IntrinsicError(`Fn::Select: index ${String(index)} is out of range for a list of ${items.length}`);
      }
      return items[position];
    }
    case 'Fn::Split': {
      const [delimiter, source] = asList(argument, 'Fn::Split');
      return asScalarString(resolveValue(source, context), 'Fn::Split').split(String(delimiter));
    }
    case 'Fn::Sub': {
      const { text, variables } = subParts(argument);
      return text.replace(/\$\{([^}]*)\}/g, (_match, ref: string) => {
        if (ref.startsWith('!')) return `\${${ref.slice(1)}}`;
        if (ref in variables) return asScalarString(resolveValue(variables[ref], context), `Fn::Sub \${${ref}}`);
        const value = ref.includes('.') ? context.getAtt(...parseGetAtt(ref)) : context.ref(ref);
        return asScalarString(value, `Fn::Sub \${${ref}}`);
      });
    }
    case 'Fn::FindInMap': {
      const [map, topKey, secondKey] = asList(argument, 'Fn::FindInMap').map((part) => asScalarString(resolveValue(part, context), 'Fn::FindInMap'));
      const value = context.mappings?.[map]?.[topKey]?.[secondKey];
      if (value === undefined) throw new IntrinsicError(`Fn::FindInMap: no entry ${map}.${topKey}.${secondKey}`);
      return value;
    }
    default:
      throw new IntrinsicError(`unsupported intrinsic function ${name}`);
  }
}

/** Resolves every intrinsic in `value`; `NO_VALUE` only when `value` itself is `{ Ref: 'AWS::NoValue' }`. */
export function resolveValue(value: unknown, context: IntrinsicContext): unknown {
  const name = intrinsicName(value);
  if (name) return resolveFunction(name, (value as Record<string, unknown>)[name], context);
  if (Array.isArray(value)) return value.map((item) => resolveValue(item, context)).filter((item) => item !== NO_VALUE);
  if (value !== null && typeof value === 'object') {
    const resolved: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const itemValue = resolveValue(item, context);
      if (itemValue !== NO_VALUE) resolved[key] = itemValue;
    }
    return resolved;
  }
  return value;
}

/**
 * Names that `Ref`, `Fn::GetAtt` and `Fn::Sub` in `value` point at (resources, parameters and pseudo
 * parameters alike): CloudFormation's implicit dependencies.
 */
export function referencedResources(value: unknown, found = new Set<string>()): Set<string> {
  const name = intrinsicName(value);
  const argument = name ? (value as Record<string, unknown>)[name] : undefined;
  if (name === 'Ref' && typeof argument === 'string') {
    found.add(argument);
  } else if (name === 'Fn::GetAtt') {
    found.add(parseGetAtt(argument)[0]);
  } else if (name === 'Fn::Sub') {
    const { text, variables } = subParts(argument);
    for (const ref of subReferences(text, variables)) found.add(ref.split('.')[0]);
    referencedResources(variables, found);
  } else if (Array.isArray(value)) {
    for (const item of value) referencedResources(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) referencedResources(item, found);
  }
  return found;
}

/**
 * Why `value` cannot be resolved by this driver, one message per problem: an unsupported function, or a
 * `Ref`/`Fn::GetAtt` to a name the template does not define.
 */
export function intrinsicProblems(value: unknown, names: { resources: ReadonlySet<string>; parameters: ReadonlySet<string> }, at: string): string[] {
  const name = intrinsicName(value);
  if (!name) {
    if (value === null || typeof value !== 'object') return [];
    return Object.entries(value).flatMap(([key, item]) => intrinsicProblems(item, names, Array.isArray(value) ? `${at}[${key}]` : `${at}.${key}`));
  }
  if (!SUPPORTED_FUNCTIONS.includes(name)) return [`${at}: unsupported intrinsic function ${name}`];
  const argument = (value as Record<string, unknown>)[name];
  const refProblem = (ref: string) => (names.resources.has(ref) || names.parameters.has(ref) || PSEUDO_PARAMETERS.includes(ref)
    ? [] : [`${at}: Ref to ${ref}, which the template does not define`]);
  const getAttProblem = (logicalId: string) => (names.resources.has(logicalId)
    ? [] : [`${at}: Fn::GetAtt on ${logicalId}, which the template does not define`]);
  try {
    switch (name) {
      case 'Ref':
        return typeof argument === 'string' ? refProblem(argument) : [`${at}: malformed Ref`];
      case 'Fn::GetAtt':
        return getAttProblem(parseGetAtt(argument)[0]);
      case 'Fn::Sub': {
        const { text, variables } = subParts(argument);
        return [
          ...subReferences(text, variables).flatMap((ref) => (ref.includes('.') ? getAttProblem(ref.split('.')[0]) : refProblem(ref))),
          ...intrinsicProblems(variables, names, `${at}.Fn::Sub`),
        ];
      }
      default:
        return intrinsicProblems(argument, names, `${at}.${name}`);
    }
  } catch (e) {
    return [`${at}: ${(e as Error).message}`];
  }
}

/** CloudFormation hands custom resources every boolean and number as a string, at any depth. */
export function stringifyProperties(value: unknown): unknown {
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.map(stringifyProperties);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, stringifyProperties(item)]));
  }
  return value;
}

/** JSON with sorted keys, so two property sets compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
