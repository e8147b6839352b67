import type { DataSource } from 'typeorm';
import { parseId } from '../../db/ids.js';
import { ImportReportEntity } from '../../entities/import-report.js';
import { notFound } from '../../errors.js';
import { pageEntities, type Ordering, type Page, type PageRequest } from '../paging.js';

const MAX_PAGE = 200;
const NEWEST_FIRST: Ordering = { name: 'importReports:CREATED_AT:DESC', keys: [{ sql: 'r.created_at', kind: 'time' }], direction: 'DESC' };

/** Stored import reports: listing, lookup, and CSV for download. */
export class ImportReports {
  constructor(private readonly db: DataSource) {}

  async get(id: string): Promise<ImportReportEntity> {
    const report = await this.db.getRepository(ImportReportEntity).findOneBy({ id: parseId('import report', id) });
    if (!report) throw notFound('import report', id);
    return report;
  }

  /** Newest first, paged by the Relay rules (first/after, last/before). */
  list(page: PageRequest): Promise<Page<ImportReportEntity>> {
    return pageEntities(this.db.getRepository(ImportReportEntity).createQueryBuilder('r'), 'r', page, NEWEST_FIRST, MAX_PAGE);
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
