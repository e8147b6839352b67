import type { DataSource } from 'typeorm';
import { parseId } from '../../db/ids.js';
import { ImportReportEntity } from '../../entities/import-report.js';
import { badInput, notFound } from '../../errors.js';

const MAX_PAGE = 200;

/** Stored import reports: listing, lookup, and CSV for download. */
export class ImportReports {
  constructor(private readonly db: DataSource) {}

  async get(id: string): Promise<ImportReportEntity> {
    const report = await this.db.getRepository(ImportReportEntity).findOneBy({ id: parseId('import report', id) });
    if (!report) throw notFound('import report', id);
    return report;
  }

  /** Newest first; `after` is the id of the last report of the previous page. */
  async list(first: number, after?: string | null): Promise<{ nodes: ImportReportEntity[]; totalCount: number; hasNextPage: boolean }> {
    if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE) throw badInput(`first must be between 0 and ${MAX_PAGE}`, { field: 'first' });
    const repo = this.db.getRepository(ImportReportEntity);
    const query = repo.createQueryBuilder('r');
    const totalCount = await query.getCount();
    if (after) {
      const anchor = await this.get(after);
      query.where('(r.created_at, r.id) < (:at, :id)', { at: anchor.createdAt, id: anchor.id });
    }
    const rows = await query.orderBy('r.created_at', 'DESC').addOrderBy('r.id', 'DESC').take(first + 1).getMany();
    return { nodes: rows.slice(0, first), totalCount, hasNextPage: rows.length > first };
  }
}

const csvCell = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/** One line per asset: id, type, name, status, explanation. */
export function reportCsv(report: ImportReportEntity): string {
  const lines = [['id', 'type', 'name', 'status', 'explanation'].join(',')];
  for (const a of report.assets) lines.push([a.id, a.type, a.name, a.status, a.explanation].map(csvCell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** The report as clients get it over REST and GraphQL; a dry run's was never stored (id null). */
export function reportJson(report: ImportReportEntity, dryRun = false) {
  return {
    id: dryRun ? null : report.id,
    dryRun,
    status: report.status,
    createdAt: (report.createdAt ?? new Date()).toISOString(),
    createdBy: report.createdBy,
    sourceStage: report.sourceStage,
    options: report.options,
    types: report.types,
    assets: report.assets,
  };
}
