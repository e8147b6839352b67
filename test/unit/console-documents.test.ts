/**
 * Every GraphQL document of the console (the gql`…` literals under console/src) is valid against
 * schema/schema.graphql, so a schema change that breaks a page fails here, not in a browser.
 *
 * Interpolations are resolved from the same file: `${NAME}` by the string constant NAME, and
 * `${flag ? fields : ''}` (fields a newer server adds, probed at run time) by its second
 * branch — the document this schema serves.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const schema = buildSchema(readFileSync(path.join(root, 'schema/schema.graphql'), 'utf8'));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) return sources(file);
    return /\.tsx?$/.test(e.name) ? [file] : [];
  });
}

function documentsOf(file: string): { name: string; text: string }[] {
  const source = readFileSync(file, 'utf8');
  const constant = (name: string) => {
    const m = new RegExp(`const ${name} = ['\`]([^'\`]*)['\`]`).exec(source);
    if (!m) throw new Error(`${file}: cannot resolve \${${name}}`);
    return m[1]!;
  };
  const resolve = (expr: string) => {
    const conditional = /^[^?]+\?[^:]+:\s*'([^']*)'\s*$/.exec(expr);
    if (conditional) return conditional[1]!;
    if (/^\w+$/.test(expr.trim())) return constant(expr.trim());
    throw new Error(`${file}: cannot resolve \${${expr}}`);
  };
  return [...source.matchAll(/gql`([^`]*)`/g)].map((m) => {
    const text = m[1]!.replace(/\$\{((?:[^}']|'[^']*')*)\}/g, (_, expr: string) => resolve(expr));
    const name = /(query|mutation|subscription)\s+(\w+)/.exec(text)?.[2] ?? '(anonymous)';
    return { name: `${path.relative(root, file)}: ${name}`, text };
  });
}

const documents = sources(path.join(root, 'console/src')).flatMap(documentsOf);

describe('console documents', () => {
  it('finds the documents of every page', () => {
    expect(documents.length).toBeGreaterThan(40);
  });
  it.each(documents.map((d) => [d.name, d.text] as const))('%s is valid against the schema', (_name, text) => {
    const errors = validate(schema, parse(text)).map((e) => e.message);
    expect(errors).toEqual([]);
  });
  it('names every operation once (Apollo refetches by name)', () => {
    const names = documents.map((d) => d.name.split(': ')[1]);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    expect(names).not.toContain('(anonymous)');
  });
});
