#!/usr/bin/env node
// TEST-ONLY stand-in for the Prisma query engine binary, for gatekit's database tests and `gatekit rehearse`.
//
// What it is: a small HTTP server that speaks the protocol prisma-client-py 0.15 uses with its "binary" engine
// (GET /status, POST / with an optional X-transaction-id, POST /transaction/start|/{id}/commit|/{id}/rollback,
// GET /metrics) and runs each query on Prisma's own query engine compiled to WebAssembly
// (@prisma/query-engine-wasm at the engine commit prisma-client-py 0.15 expects) over @prisma/adapter-pg and `pg`.
// prisma-client-py sends a small fixed GraphQL subset; this file parses it and maps it 1:1 to the engine's JSON
// protocol (graphql.js), then maps the answer back (data.<op><Model> -> data.result, {"$type","value"} unwrapped).
//
// What it is NOT: a production engine. It exists because the real engines download from a host this machine
// cannot reach. It is never installed in the gateway image or the moat bundle (production images bake the real
// engines at build time: image/Dockerfile), and it must never be used for performance numbers (wasm + an extra
// translation hop + one Node process; no tuning).
//
// Usage (as prisma-client-py spawns it): PRISMA_QUERY_ENGINE_BINARY=<this file>; argv `-p PORT --enable-metrics
// --enable-raw-queries`; env PRISMA_DML_PATH (the schema), optional OVERWRITE_DATASOURCES; stops on SIGINT/SIGTERM.

import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

import { parseDatamodel, resolveDatasourceUrl, toJsonRequest, fromJsonResponse } from './graphql.js';

const ENGINE_COMMIT = '393aa359c9ad4a4bb28630fb5613f9c281cde053';
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function fail(message) {
  process.stderr.write(`prisma-standin: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const out = { port: 0, version: false };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--version' || argv[i] === '-v') out.version = true;
    else if (argv[i] === '-p' || argv[i] === '--port') out.port = Number(argv[(i += 1)]);
  }
  return out;
}

// Postgres type ids adapter-pg 5.17 cannot decode (catalog types LiteLLM's view check reads from pg_views):
// reported to the engine as text. Values of these types arrive from `pg` as strings already.
const AS_TEXT = new Set([18, 19, 24, 28, 29, 194, 1033, 2202, 2203, 2204, 2205, 2206, 3734, 3769, 4089, 4096]);
const TEXT_OID = 25;
// Arrays of those (e.g. ARRAY_AGG(viewname) is name[]): reported as text[] and parsed as such.
const AS_TEXT_ARRAY = new Set([1002, 1003, 1008, 1011, 1012, 1028, 2207, 2208, 2209, 2210, 2211, 1034]);
const TEXT_ARRAY_OID = 1009;

function pgConfig(url) {
  const u = new URL(url);
  const params = u.searchParams;
  // Prisma's dialect (sslmode=disable|prefer|require, sslcert=<CA file>, sslaccept=strict|accept_invalid_certs),
  // which LiteLLM writes, plus libpq's verify-ca/verify-full + sslrootcert for URLs used directly.
  const mode = params.get('sslmode') || 'prefer';
  const caFile = params.get('sslcert') || params.get('sslrootcert');
  const verify = params.get('sslaccept') === 'strict' || mode === 'verify-ca' || mode === 'verify-full';
  let ssl = false;
  if (!['disable', 'prefer', 'require', 'verify-ca', 'verify-full'].includes(mode)) fail(`unsupported sslmode ${mode}`);
  if (mode !== 'disable') {
    // Without verification: encrypted, certificate not checked (libpq `require`, Prisma's default sslaccept).
    ssl = verify ? { rejectUnauthorized: true, ...(caFile ? { ca: fs.readFileSync(caFile, 'utf8') } : {}) } : { rejectUnauthorized: false };
    if (mode === 'verify-ca') ssl.checkServerIdentity = () => undefined;
  }
  const limit = Number(params.get('connection_limit') || 5);
  return {
    config: {
      host: decodeURIComponent(u.hostname),
      port: Number(u.port || 5432),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres',
      ssl,
      max: limit,
      connectionTimeoutMillis: Number(params.get('connect_timeout') || 10) * 1000,
    },
    schema: params.get('schema') || undefined,
  };
}

async function loadEngine() {
  const dir = path.join(here, 'node_modules', '@prisma', 'query-engine-wasm', 'postgresql');
  const bg = await import(path.join(dir, 'query_engine_bg.js'));
  const bytes = fs.readFileSync(path.join(dir, 'query_engine_bg.wasm'));
  const { instance } = await WebAssembly.instantiate(bytes, { './query_engine_bg.js': bg });
  bg.__wbg_set_wasm(instance.exports);
  return bg;
}

async function makeAdapter(url) {
  const pg = require('pg');
  const { PrismaPg } = require('@prisma/adapter-pg');
  const { bindAdapter } = require('@prisma/driver-adapter-utils');
  const parseTextArray = pg.types.getTypeParser(TEXT_ARRAY_OID, 'text');
  const queryable = Object.getPrototypeOf(PrismaPg.prototype);
  const performIO = queryable.performIO;
  queryable.performIO = async function patchedPerformIO(query) {
    const res = await performIO.call(this, query);
    if (res.ok && Array.isArray(res.value.fields)) {
      res.value.fields.forEach((field, i) => {
        if (AS_TEXT.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
        if (AS_TEXT_ARRAY.has(field.dataTypeID)) {
          field.dataTypeID = TEXT_ARRAY_OID;
          for (const row of res.value.rows) if (typeof row[i] === 'string') row[i] = parseTextArray(row[i]);
        }
      });
    }
    return res;
  };
  const { config, schema } = pgConfig(url);
  const pool = new pg.Pool(config);
  pool.on('error', (err) => process.stderr.write(`prisma-standin: idle connection error: ${err.message}\n`));
  return { pool, adapter: bindAdapter(new PrismaPg(pool, schema ? { schema } : undefined)) };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, body, type = 'application/json') {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

// Driver errors meaning the database server is not there (not a query the database refused).
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE', '57P01', '57P03']);

// Whether the database server is gone: a fresh probe fails to connect. A busy pool (every connection checked out)
// proves nothing, so the engine's own error stands then.
async function unreachable(pool) {
  if (pool.totalCount >= pool.options.max && pool.idleCount === 0) return false;
  try {
    await pool.query('SELECT 1');
    return false;
  } catch (err) {
    const text = String((err && err.message) || err);
    return UNREACHABLE_CODES.has(err && err.code) || /Connection terminated|socket disconnected|ECONNREFUSED|ECONNRESET/i.test(text);
  }
}

function reachError(host, port) {
  const message =
    `Can't reach database server at \`${host}\`:\`${port}\`\n\n` +
    `Please make sure your database server is running at \`${host}\`:\`${port}\`.`;
  return {
    error: message,
    user_facing_error: { is_panic: false, message, meta: { database_host: host, database_port: port }, error_code: 'P1001' },
  };
}

function engineError(message) {
  return { errors: [{ error: message, user_facing_error: { is_panic: false, message, meta: {} } }] };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.version) {
    process.stdout.write(`query-engine ${ENGINE_COMMIT}\n`);
    return;
  }
  const dmlPath = process.env.PRISMA_DML_PATH;
  if (!dmlPath) fail('PRISMA_DML_PATH is not set');
  if (!args.port) fail('-p PORT is required');
  const datamodel = fs.readFileSync(dmlPath, 'utf8');
  const models = parseDatamodel(datamodel);
  const url = resolveDatasourceUrl(datamodel, process.env);
  const { pool, adapter } = await makeAdapter(url);
  const wasm = await loadEngine();
  const logLevel = process.env.RUST_LOG === 'info' ? 'info' : 'error';
  const log = (line) => {
    if (logLevel === 'info') process.stderr.write(`${line}\n`);
  };
  const engine = new wasm.QueryEngine({ datamodel, logLevel, logQueries: false }, log, adapter);
  await engine.connect('{}');
  let served = 0;

  async function handle(req, res) {
    const u = new URL(req.url, 'http://localhost');
    const body = req.method === 'POST' ? await readBody(req) : '';
    if (req.method === 'GET' && u.pathname === '/status') return send(res, 200, { status: 'ok' });
    if (req.method === 'GET' && u.pathname === '/metrics') {
      if (u.searchParams.get('format') === 'prometheus') {
        return send(res, 200, `# prisma-standin: test-only engine\nprisma_standin_requests_total ${served}\n`, 'text/plain');
      }
      return send(res, 200, { counters: [{ key: 'prisma_standin_requests_total', value: served }], gauges: [], histograms: [] });
    }
    if (req.method !== 'POST') return send(res, 404, engineError(`no route ${req.method} ${u.pathname}`));
    const tx = u.pathname.match(/^\/transaction\/([^/]+)\/(commit|rollback)$/);
    if (tx) {
      const out = tx[2] === 'commit' ? await engine.commitTransaction(tx[1], '{}') : await engine.rollbackTransaction(tx[1], '{}');
      return send(res, 200, out || '{}');
    }
    if (u.pathname === '/transaction/start') return send(res, 200, await engine.startTransaction(body || '{}', '{}'));
    if (u.pathname !== '/') return send(res, 404, engineError(`no route POST ${u.pathname}`));
    served += 1;
    let request;
    try {
      request = toJsonRequest(JSON.parse(body), models);
    } catch (err) {
      return send(res, 200, engineError(`prisma-standin could not translate the query: ${err.message}`));
    }
    const txId = req.headers['x-transaction-id'] || undefined;
    const answer = JSON.parse(await engine.query(JSON.stringify(request.json), '{}', txId));
    const failed = [answer, ...(answer.batchResult || [])].filter((r) => r && r.errors);
    if (failed.length && (await unreachable(pool))) {
      // The wasm engine reports a driver failure as P2036 ("Error in external connector"); the native engine
      // reports a database it cannot reach as P1001. Answer as the native engine does, so the proxy sees an outage.
      const { host, port } = pool.options;
      for (const r of failed) r.errors = [reachError(host, port)];
    }
    for (const r of failed) {
      const what = request.items.map((it) => it.field).join(', ');
      process.stderr.write(`prisma-standin: query error (${what}${txId ? `, tx ${txId}` : ''}): ${r.errors[0].error}\n`);
    }
    return send(res, 200, fromJsonResponse(answer, request));
  }

  const servers = ['127.0.0.1', '::1'].map((host) => {
    const server = http.createServer((req, res) => {
      handle(req, res).catch((err) => send(res, 500, engineError(String(err && err.stack ? err.stack : err))));
    });
    server.on('error', (err) => {
      if (host === '::1' && (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT')) return; // no IPv6 loopback
      fail(`listen ${host}:${args.port}: ${err.message}`);
    });
    server.listen(args.port, host);
    return server;
  });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const s of servers) s.close();
    try {
      await engine.disconnect('{}');
      await pool.end();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
