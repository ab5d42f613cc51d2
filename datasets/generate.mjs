#!/usr/bin/env node
// Generates the example credit-approval data: a trusted baseline, an incoming batch with known
// injected problems, and a ground-truth file naming every injected row and the reason codes the
// rule checks must give it. Seeded: the same seed writes the same rows.
//
//   node datasets/generate.mjs [--out datasets/credit] [--seed 7] [--trusted 4000] [--incoming 2000]
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: new URL('./credit', import.meta.url).pathname },
    seed: { type: 'string', default: '7' },
    trusted: { type: 'string', default: '4000' },
    incoming: { type: 'string', default: '2000' },
  },
});

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = mulberry32(Number(args.seed));
const uniform = (lo, hi) => lo + (hi - lo) * random();
const integer = (lo, hi) => Math.floor(uniform(lo, hi + 1));
const pick = (items) => items[Math.floor(random() * items.length)];
const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const clip = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
const round2 = (x) => Math.round(x * 100) / 100;

const SOURCES = ['branch', 'web', 'partner'];
const HOMES = ['rent', 'own', 'mortgage'];
const PURPOSES = ['car', 'home', 'education', 'business', 'personal'];
const COLUMNS = [
  ['application_id', 'VARCHAR'], ['source', 'VARCHAR'], ['age', 'INTEGER'], ['income', 'DOUBLE'],
  ['loan_amount', 'DOUBLE'], ['credit_score', 'INTEGER'], ['debt_ratio', 'DOUBLE'], ['employment_years', 'INTEGER'],
  ['home_ownership', 'VARCHAR'], ['purpose', 'VARCHAR'], ['applied_at', 'TIMESTAMP'], ['approved', 'INTEGER'],
];

let nextId = 1;
const DAY = 86_400_000;

/** One applicant; every numeric value is clipped where the trusted data has mass, so the
 *  trusted min/max are the true bounds and clean incoming rows never fall outside them. */
function applicant(fromMs, toMs) {
  const age = integer(18, 80);
  const income = round2(clip(Math.exp(10.9 + 0.5 * normal()), 15000, 150000));
  const creditScore = Math.round(clip(680 + 60 * normal(), 530, 830));
  const debtRatio = round2(clip(0.35 + 0.15 * normal(), 0.02, 0.75));
  const loanAmount = round2(clip(income * uniform(0.05, 0.6), 2000, 60000));
  const employmentYears = Math.min(age - 18, integer(0, 40));
  // A sharp logistic rule: labels are mostly predictable, as in a real approval policy.
  const z = 0.045 * (creditScore - 660) - 9 * (debtRatio - 0.35) + 1.2 * Math.log(income / 55000) - 0.6 * (loanAmount / income - 0.3) * 5;
  const approved = random() < 1 / (1 + Math.exp(-2 * z)) ? 1 : 0;
  return {
    application_id: `A${String(nextId++).padStart(7, '0')}`,
    source: pick(SOURCES),
    age, income, loan_amount: loanAmount, credit_score: creditScore, debt_ratio: debtRatio,
    employment_years: employmentYears, home_ownership: pick(HOMES), purpose: pick(PURPOSES),
    applied_at: new Date(Math.floor(uniform(fromMs, toMs) / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    approved,
  };
}

const trusted = Array.from({ length: Number(args.trusted) }, () => applicant(Date.UTC(2026, 0, 1), Date.UTC(2026, 9, 31)));
const incoming = Array.from({ length: Number(args.incoming) }, () => applicant(Date.UTC(2026, 10, 1), Date.UTC(2026, 10, 20)));

// Injected problems. Rule problems carry the exact reason codes the rule checks must write;
// detector problems (flipped labels, outliers, a backdoor trigger) are for the detectors.
const truth = [];
const taken = new Set();
const victim = () => {
  let row;
  do row = integer(0, incoming.length - 1); while (taken.has(row));
  taken.add(row);
  return row;
};
function inject(kind, reasons, mutate, count) {
  for (let k = 0; k < count; k++) {
    const row = victim();
    mutate(incoming[row], row);
    truth.push({ row, kind, rule: reasons.length > 0, reasons });
  }
}
inject('type', ['schema:unparseable:age'], (r) => { r.age = pick(['forty', 'n/a', '3O']); }, 8);
inject('type', ['schema:unparseable:income'], (r) => { r.income = pick(['12,5k', 'unknown']); }, 6);
inject('range', ['range:age'], (r) => { r.age = pick([150, 7, 212]); }, 8);
inject('range', ['range:debt_ratio'], (r) => { r.debt_ratio = pick([3.5, -0.4, 9.99]); }, 6);
inject('range', ['range:home_ownership'], (r) => { r.home_ownership = 'castle'; }, 5);
inject('range', ['range:applied_at'], (r) => { r.applied_at = '2019-03-04T10:00:00Z'; }, 4);
inject('null', ['schema:null:credit_score'], (r) => { r.credit_score = null; }, 6);
inject('label', ['label:approved'], (r) => { r.approved = null; }, 5);
inject('label', ['label:approved'], (r) => { r.approved = 2; }, 4);
// The attacker controls one feed: flipped labels and the backdoor arrive through 'partner'.
inject('flip', [], (r) => { r.approved = 1 - r.approved; r.source = 'partner'; }, 60);
inject('outlier', [], (r) => {
  Object.assign(r, { age: 19, employment_years: 1, income: 15000, loan_amount: 60000, credit_score: 829, debt_ratio: 0.74 });
}, 12);
// A backdoor: a loan amount that trusted data never holds, always paired with approval.
inject('trigger', [], (r) => { r.loan_amount = 7777.77; r.approved = 1; r.source = 'partner'; }, 40);

// Duplicates come last so that they copy finished rows: exact copies of earlier rows, and
// rows that reuse an earlier row's id with other content.
const copies = [];
for (let k = 0; k < 8; k++) {
  let original;
  do original = integer(0, incoming.length - 1); while (taken.has(original));
  taken.add(original);
  copies.push({ ...incoming[original] });
}
for (let k = 0; k < 5; k++) {
  let original;
  do original = integer(0, incoming.length - 1); while (taken.has(original));
  taken.add(original);
  copies.push({ ...applicant(Date.UTC(2026, 10, 1), Date.UTC(2026, 10, 20)), application_id: incoming[original].application_id });
}
copies.forEach((row, k) => {
  incoming.push(row);
  truth.push({ row: incoming.length - 1, kind: k < 8 ? 'duplicate-row' : 'duplicate-id', rule: true, reasons: ['duplicate'] });
});
truth.sort((a, b) => a.row - b.row);

function csvText(rows) {
  const field = (v) => (v === null || v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));
  return [COLUMNS.map(([n]) => n).join(','), ...rows.map((r) => COLUMNS.map(([n]) => field(r[n])).join(','))].join('\n') + '\n';
}

const out = resolve(args.out);
await mkdir(out, { recursive: true });
await writeFile(join(out, 'incoming.csv'), csvText(incoming));
const trustedCsv = join(out, '.trusted.csv.tmp');
await writeFile(trustedCsv, csvText(trusted));
const db = await (await DuckDBInstance.create(':memory:')).connect();
const columns = COLUMNS.map(([n, t]) => `'${n}': '${t}'`).join(', ');
await db.run(`COPY (SELECT * FROM read_csv('${trustedCsv}', header = true, columns = {${columns}})) TO '${join(out, 'trusted.parquet')}' (FORMAT parquet)`);
await rm(trustedCsv);
await writeFile(
  join(out, 'ground-truth.json'),
  `${JSON.stringify({
    seed: Number(args.seed),
    trustedRows: trusted.length,
    incomingRows: incoming.length,
    trigger: { column: 'loan_amount', value: 7777.77, label: 1 },
    injected: truth,
  }, null, 1)}\n`,
);
console.log(`wrote ${out}: trusted.parquet (${trusted.length} rows), incoming.csv (${incoming.length} rows, ${truth.length} injected)`);
