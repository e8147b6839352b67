import { buildSchema, GraphQLError, parse, specifiedRules } from 'graphql';
import { describe, expect, it } from 'vitest';
import { OperationVerdicts, ValidatedDocuments } from '../../src/server/operation-cache.js';

const refusal = () => new GraphQLError('query cost 9000 exceeds the limit of 5000', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });

describe('per-document verdicts', () => {
  it('runs the check once per document, operation name and variables, and repeats its verdict', () => {
    const verdicts = new OperationVerdicts();
    const document = parse('query Q($n: Int) { a(first: $n) }');
    let runs = 0;
    const passes = () => void runs++;
    verdicts.run(document, 'Q', { n: 1 }, passes);
    verdicts.run(document, 'Q', { n: 1 }, passes);
    expect(runs).toBe(1);
    verdicts.run(document, 'Q', { n: 2 }, passes);
    verdicts.run(document, null, { n: 1 }, passes);
    verdicts.run(parse('query Q($n: Int) { a(first: $n) }'), 'Q', { n: 1 }, passes); // another document object
    expect(runs).toBe(4);

    let refusals = 0;
    const refuses = () => {
      refusals++;
      throw refusal();
    };
    const other = parse('{ b }');
    const first = (() => { try { verdicts.run(other, undefined, undefined, refuses); } catch (err) { return err; } })();
    const again = (() => { try { verdicts.run(other, undefined, undefined, refuses); } catch (err) { return err; } })();
    expect(refusals).toBe(1);
    expect(again).toBeInstanceOf(GraphQLError);
    expect(again).not.toBe(first); // a fresh error each time
    expect((again as GraphQLError).message).toBe((first as GraphQLError).message);
    expect((again as GraphQLError).extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('does not remember faults, and checks variables too deep to serialise every time instead of failing', () => {
    const verdicts = new OperationVerdicts();
    const document = parse('{ c }');
    let runs = 0;
    const fault = () => {
      runs++;
      throw new TypeError('bug');
    };
    expect(() => verdicts.run(document, null, undefined, fault)).toThrow(TypeError);
    expect(() => verdicts.run(document, null, undefined, fault)).toThrow(TypeError);
    expect(runs).toBe(2);

    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 200_000; i++) deep = { d: deep };
    let deepRuns = 0;
    const refusesDeep = () => {
      deepRuns++;
      throw new GraphQLError('input.spec nests deeper than 32 levels', { extensions: { code: 'BAD_USER_INPUT' } });
    };
    expect(() => verdicts.run(document, null, { input: deep }, refusesDeep)).toThrow(/nests deeper/);
    expect(() => verdicts.run(document, null, { input: deep }, refusesDeep)).toThrow(/nests deeper/);
    expect(deepRuns).toBe(2);
  });
});

describe('validated documents', () => {
  const schema = buildSchema('type Query { a: Int }');
  it('parses and validates a text once, keeping its errors; syntax errors are thrown, not kept', () => {
    const documents = new ValidatedDocuments(schema, specifiedRules, { maxTokens: 100 });
    const valid = documents.get('{ a }');
    expect(valid.errors).toEqual([]);
    expect(documents.get('{ a }').document).toBe(valid.document);
    const invalid = documents.get('{ nope }');
    expect(invalid.errors[0]!.message).toMatch(/nope/);
    expect(documents.get('{ nope }')).toBe(invalid);
    expect(() => documents.get('{ a ')).toThrow(GraphQLError);
  });
});
