import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Ctx, Field, ID, Int, ObjectType, Query, Resolver } from 'type-graphql';
import type { ImportReportEntity } from '../../entities/import-report.js';
import { ConnectionType, toConnection, type Connection } from '../connection.js';
import type { Context } from '../context.js';
import { Requires } from '../guard.js';
import { PlanAction } from '../promotions/resolver.js';
import type { AssetAction } from '../../domain/promotion-decision.js';

@ObjectType('ImportTypeSummary', { description: 'One asset type’s counts in an import.' })
class ImportTypeSummary {
  @Field({ description: 'The asset type.' }) type!: string;
  @Field(() => Int, { description: 'Everything but FAILURE: created, replaced and unchanged.' }) successful!: number;
  @Field(() => Int, { description: 'Assets that failed.' }) unsuccessful!: number;
  @Field(() => Int, { description: 'Assets new on this stage.' }) created!: number;
  @Field(() => Int, { description: 'Existing assets overwritten.' }) replaced!: number;
  @Field(() => Int, { description: 'Identical here: not written.' }) unchanged!: number;
  @Field(() => Int, { description: 'Assets imported with a warning.' }) warnings!: number;
}

@ObjectType('AssetImportResult', { description: 'What an archive import did with one asset.' })
class AssetImportResult {
  @Field(() => ID, { description: 'The asset’s UUID.' }) id!: string;
  @Field({ description: 'The asset’s name.' }) name!: string;
  @Field({ description: 'The asset type.' }) type!: string;
  @Field(() => PlanAction, { description: 'The decision taken for the asset.' }) action!: AssetAction;
  @Field({ description: 'CREATED, REPLACED, UNCHANGED, WARNING or FAILURE.' }) status!: string;
  @Field({ description: 'Why, in words (for a FAILURE, what to change).' }) explanation!: string;
}

@ObjectType({ description: 'The outcome of one archive import. Also at GET /archive/import-reports/<id>.json and .csv.' })
export class ImportReport {
  @Field(() => ID, { description: 'The report’s id.' }) id!: string;
  @Field({ description: 'SUCCESS, PARTIAL_SUCCESS or FAILURE.' }) status!: string;
  @Field({ description: 'When the import ran.' }) createdAt!: Date;
  @Field({ description: 'Who imported.' }) createdBy!: string;
  @Field({ description: 'The stage the archive was exported from.' }) sourceStage!: string;
  @Field(() => GraphQLJSONObject, { description: 'The import options (overwrite, types, fixMissingVersions …).' }) options!: Record<string, unknown>;
  @Field(() => [ImportTypeSummary], { description: 'Per asset type: counts.' }) types!: ImportTypeSummary[];
  @Field(() => [AssetImportResult], { description: 'Per asset: what happened.' }) assets!: AssetImportResult[];
}

const ImportReportConnection = ConnectionType('ImportReport', () => ImportReport);

@Resolver()
export class ArchiveResolver {
  @Requires('EXPORT_IMPORT')
  @Query(() => ImportReportConnection, { description: 'Stored import reports, newest first.' })
  async importReports(
    @Arg('first', () => Int, { defaultValue: 20, description: 'Page size.' }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'Cursor: the page after this edge.' }) after: string | null,
    @Ctx() { services }: Context,
  ): Promise<Connection<ImportReportEntity>> {
    const page = await services.importReports.list(first, after);
    return toConnection(page.nodes, page.totalCount, page.hasNextPage, (r) => r.id);
  }

  @Requires('EXPORT_IMPORT')
  @Query(() => ImportReport, { description: 'One stored archive import report.' })
  importReport(@Arg('id', () => ID, { description: 'The report’s id.' }) id: string, @Ctx() { services }: Context): Promise<ImportReportEntity> {
    return services.importReports.get(id);
  }
}
