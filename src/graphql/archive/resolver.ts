import { NodeInterface } from '../node.js';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Ctx, Field, ID, Int, ObjectType, Query, Resolver } from 'type-graphql';
import type { ImportReportEntity } from '../../entities/import-report.js';
import { ConnectionType, toConnection, type Connection } from '../connection.js';
import type { Context } from '../context.js';
import { Requires } from '../guard.js';
import { PlanAction } from '../promotions/resolver.js';
import type { AssetAction } from '../../domain/promotion-decision.js';

@ObjectType('ImportTypeSummary')
class ImportTypeSummary {
  @Field() type!: string;
  @Field(() => Int, { description: 'Everything but FAILURE: created, replaced and unchanged.' }) successful!: number;
  @Field(() => Int) unsuccessful!: number;
  @Field(() => Int) created!: number;
  @Field(() => Int) replaced!: number;
  @Field(() => Int, { description: 'Identical here: not written.' }) unchanged!: number;
  @Field(() => Int) warnings!: number;
}

@ObjectType('AssetImportResult')
class AssetImportResult {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field() type!: string;
  @Field(() => PlanAction, { description: 'The decision taken for the asset.' }) action!: AssetAction;
  @Field({ description: 'CREATED, REPLACED, UNCHANGED, WARNING or FAILURE.' }) status!: string;
  @Field() explanation!: string;
}

@ObjectType({ implements: NodeInterface, description: 'The outcome of one archive import. Also at GET /archive/import-reports/<id>.json and .csv.' })
export class ImportReport {
  @Field(() => ID) id!: string;
  @Field({ description: 'SUCCESS, PARTIAL_SUCCESS or FAILURE.' }) status!: string;
  @Field() createdAt!: Date;
  @Field() createdBy!: string;
  @Field() sourceStage!: string;
  @Field(() => GraphQLJSONObject) options!: Record<string, unknown>;
  @Field(() => [ImportTypeSummary]) types!: ImportTypeSummary[];
  @Field(() => [AssetImportResult]) assets!: AssetImportResult[];
}

const ImportReportConnection = ConnectionType('ImportReport', () => ImportReport);

@Resolver()
export class ArchiveResolver {
  @Requires('EXPORT_IMPORT')
  @Query(() => ImportReportConnection, { description: 'Stored import reports, newest first.' })
  async importReports(
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() { services }: Context,
  ): Promise<Connection<ImportReportEntity>> {
    const page = await services.importReports.list(first, after);
    return toConnection({ ...page, cursors: page.nodes.map((r) => r.id), hasPreviousPage: !!after });
  }

  @Requires('EXPORT_IMPORT')
  @Query(() => ImportReport)
  importReport(@Arg('id', () => ID) id: string, @Ctx() { services }: Context): Promise<ImportReportEntity> {
    return services.importReports.get(id);
  }
}
