// TEST-ONLY (see engine.js): translate prisma-client-py 0.15's GraphQL subset to the query engine's JSON protocol.
//
// The subset prisma-client-py renders (prisma/_builder.py): `query|mutation { result: <op><Model>(k: <value> ...)
// { field  rel(k: <value>) { ... } } }` where a value is a JSON literal, `{ k: <value> ... }` or `[ <value>, ... ]`.
// Raw queries: `mutation { result: queryRaw|executeRaw(query: "...", parameters: "[...]") }`.

const OPERATIONS = [
  'findUniqueOrThrow', 'findFirstOrThrow', 'findUnique', 'findFirst', 'findMany', 'createManyAndReturn',
  'createOne', 'createMany', 'updateOne', 'updateMany', 'deleteOne', 'deleteMany', 'upsertOne', 'aggregate',
  'groupBy',
];
const RAW = new Set(['queryRaw', 'executeRaw']);

// ------------------------------------------------------------------ datamodel

// { Model: { field: { type, list } } }. The datamodel keeps one field per line, as Prisma formats it.
export function parseDatamodel(text) {
  const models = {};
  let current = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    const open = line.match(/^(model|view)\s+(\w+)\s*\{/);
    if (open) {
      current = {};
      models[open[2]] = current;
      continue;
    }
    if (line.startsWith('}')) {
      current = null;
      continue;
    }
    if (!current || !line || line.startsWith('@@')) continue;
    const field = line.match(/^(\w+)\s+(\w+)(\[\])?(\?)?/);
    if (field) current[field[1]] = { type: field[2], list: Boolean(field[3]) };
  }
  return models;
}

export function resolveDatasourceUrl(datamodel, env) {
  if (env.OVERWRITE_DATASOURCES) {
    const overrides = JSON.parse(env.OVERWRITE_DATASOURCES);
    if (overrides.length && overrides[0].url) return overrides[0].url;
  }
  const block = datamodel.match(/datasource\s+\w+\s*\{([\s\S]*?)\}/);
  if (!block) throw new Error('the datamodel has no datasource block');
  const fromEnv = block[1].match(/url\s*=\s*env\(\s*"([^"]+)"\s*\)/);
  if (fromEnv) {
    const value = env[fromEnv[1]];
    if (!value) throw new Error(`the datasource url comes from ${fromEnv[1]}, which is not set`);
    return value;
  }
  const literal = block[1].match(/url\s*=\s*"([^"]+)"/);
  if (!literal) throw new Error('cannot read the datasource url');
  return literal[1];
}

// ------------------------------------------------------------------ GraphQL subset parser

const TOKEN = /\s+|,|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[A-Za-z_][A-Za-z0-9_]*|[{}()[\]:]/gy;

function tokenize(text) {
  const tokens = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m || m.index !== at) throw new Error(`unexpected input at ${at}: ${text.slice(at, at + 40)}`);
    const t = m[0];
    if (/^\s+$/.test(t) || t === ',') continue;
    tokens.push(t);
  }
  return tokens;
}

class Parser {
  constructor(text) {
    this.tokens = tokenize(text);
    this.i = 0;
  }

  peek() {
    return this.tokens[this.i];
  }

  next() {
    if (this.i >= this.tokens.length) throw new Error('unexpected end of query');
    return this.tokens[this.i++];
  }

  expect(t) {
    const got = this.next();
    if (got !== t) throw new Error(`expected ${t}, got ${got}`);
  }

  name() {
    const t = this.next();
    if (!/^[A-Za-z_]/.test(t)) throw new Error(`expected a name, got ${t}`);
    return t;
  }

  value() {
    const t = this.next();
    if (t === '{') {
      const obj = {};
      while (this.peek() !== '}') {
        const key = this.name();
        this.expect(':');
        obj[key] = this.value();
      }
      this.next();
      return obj;
    }
    if (t === '[') {
      const list = [];
      while (this.peek() !== ']') list.push(this.value());
      this.next();
      return list;
    }
    if (t.startsWith('"')) return JSON.parse(t);
    if (t === 'true') return true;
    if (t === 'false') return false;
    if (t === 'null') return null;
    if (/^-?\d/.test(t)) return Number(t);
    return t; // a bare enum literal
  }

  args() {
    const out = {};
    if (this.peek() !== '(') return out;
    this.next();
    while (this.peek() !== ')') {
      const key = this.name();
      this.expect(':');
      out[key] = this.value();
    }
    this.next();
    return out;
  }

  // { a b rel(args) { ... } } -> { a: true, rel: { arguments, selection } }
  selection() {
    if (this.peek() !== '{') return null;
    this.next();
    const out = {};
    while (this.peek() !== '}') {
      const key = this.name();
      const args = this.args();
      const sub = this.selection();
      if (sub === null && !Object.keys(args).length) out[key] = true;
      else out[key] = { ...(Object.keys(args).length ? { arguments: args } : {}), selection: sub || { $scalars: true } };
    }
    this.next();
    return out;
  }

  document() {
    const kind = this.name();
    if (kind !== 'query' && kind !== 'mutation') throw new Error(`expected query or mutation, got ${kind}`);
    this.expect('{');
    const alias = this.name();
    this.expect(':');
    const field = this.name();
    const args = this.args();
    const selection = this.selection();
    this.expect('}');
    if (this.i !== this.tokens.length) throw new Error('trailing input after the query');
    return { alias, field, args, selection };
  }
}

export function parseGraphql(text) {
  return new Parser(text).document();
}

// ------------------------------------------------------------------ Json inputs

// The JSON protocol stores a plain string as a JSON string: Json fields must be tagged.
const json = (v) => (typeof v === 'string' ? { $type: 'Json', value: v } : v);

function tagData(data, model, models) {
  if (Array.isArray(data)) return data.map((d) => tagData(d, model, models));
  if (!data || typeof data !== 'object') return data;
  const fields = models[model] || {};
  const out = {};
  for (const [key, value] of Object.entries(data)) {
    const f = fields[key];
    if (!f) out[key] = value;
    else if (f.type === 'Json') out[key] = value && typeof value === 'object' && 'set' in value ? { ...value, set: json(value.set) } : json(value);
    else if (models[f.type]) out[key] = tagNested(value, f.type, models);
    else out[key] = value;
  }
  return out;
}

function tagNested(value, model, models) {
  if (!value || typeof value !== 'object') return value;
  const out = { ...value };
  for (const k of ['create', 'update', 'connectOrCreate', 'upsert']) {
    if (out[k] === undefined) continue;
    if (k === 'connectOrCreate' || k === 'upsert') {
      const items = Array.isArray(out[k]) ? out[k] : [out[k]];
      const tagged = items.map((it) => ({
        ...it,
        ...(it.create ? { create: tagData(it.create, model, models) } : {}),
        ...(it.update ? { update: tagData(it.update, model, models) } : {}),
        ...(it.where ? { where: tagWhere(it.where, model, models) } : {}),
      }));
      out[k] = Array.isArray(out[k]) ? tagged : tagged[0];
    } else {
      out[k] = tagData(out[k], model, models);
    }
  }
  if (out.createMany && out.createMany.data) out.createMany = { ...out.createMany, data: tagData(out.createMany.data, model, models) };
  return out;
}

function tagWhere(where, model, models) {
  if (Array.isArray(where)) return where.map((w) => tagWhere(w, model, models));
  if (!where || typeof where !== 'object') return where;
  const fields = models[model] || {};
  const out = {};
  for (const [key, value] of Object.entries(where)) {
    const f = fields[key];
    if (key === 'AND' || key === 'OR' || key === 'NOT') out[key] = tagWhere(value, model, models);
    else if (f && f.type === 'Json' && value && typeof value === 'object') {
      out[key] = { ...value };
      for (const op of ['equals', 'not']) if (op in value) out[key][op] = json(value[op]);
    } else if (f && models[f.type] && value && typeof value === 'object') {
      out[key] = {};
      for (const [op, inner] of Object.entries(value)) out[key][op] = tagWhere(inner, f.type, models);
    } else out[key] = value;
  }
  return out;
}

function tagArguments(args, model, models) {
  const out = { ...args };
  for (const k of ['data', 'create', 'update']) if (out[k] !== undefined) out[k] = tagData(out[k], model, models);
  if (out.where !== undefined) out.where = tagWhere(out.where, model, models);
  if (out.having !== undefined) out.having = tagWhere(out.having, model, models);
  return out;
}

// ------------------------------------------------------------------ request / response mapping

function splitField(field) {
  if (RAW.has(field)) return { action: field, model: undefined };
  for (const op of OPERATIONS) {
    if (field.startsWith(op) && field.length > op.length) return { action: op, model: field.slice(op.length) };
  }
  throw new Error(`unsupported operation ${field}`);
}

function translateOne(graphql, models) {
  const q = parseGraphql(graphql);
  const { action, model } = splitField(q.field);
  const args = model ? tagArguments(q.args, model, models) : q.args;
  const selection = q.selection || { $scalars: true, $composites: true };
  const json = { ...(model ? { modelName: model } : {}), action, query: { arguments: args, selection } };
  return { json, alias: q.alias, field: `${action}${model || ''}`, rawField: action };
}

// prisma-client-py body: {"query", "variables"} or {"batch": [{"query"}...], "transaction": bool}
export function toJsonRequest(body, models) {
  if (Array.isArray(body.batch)) {
    const items = body.batch.map((b) => translateOne(b.query, models));
    const json = { batch: items.map((it) => it.json), ...(body.transaction ? { transaction: {} } : {}) };
    return { json, items };
  }
  const one = translateOne(body.query, models);
  return { json: one.json, items: [one] };
}

function unwrap(value) {
  if (Array.isArray(value)) return value.map(unwrap);
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 2 && '$type' in value && 'value' in value) return unwrap(value.value);
    const out = {};
    for (const k of keys) out[k] = unwrap(value[k]);
    return out;
  }
  return value;
}

function renameData(result, item) {
  if (!result || !result.data) return result;
  const data = result.data;
  const key = Object.keys(data).find((k) => k === item.field || k === item.rawField) ?? Object.keys(data)[0];
  return { ...result, data: { [item.alias]: unwrap(data[key]) } };
}

export function fromJsonResponse(answer, request) {
  if (answer.errors) return answer;
  if (Array.isArray(answer.batchResult)) {
    return { batchResult: answer.batchResult.map((r, i) => (r.errors ? r : renameData(r, request.items[i]))) };
  }
  return renameData(answer, request.items[0]);
}
