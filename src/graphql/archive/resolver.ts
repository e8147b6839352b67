import { NodeInterface } from '../node.js';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Args, Ctx, Field, ID, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import type { AssetType } from '../../domain/asset-types.js';
import type { ImportBackupEntity } from '../../entities/import-backup.js';
import type { ImportReportEntity } from '../../entities/import-report.js';
import type { AuthUser } from '../../services/auth.js';
import { AssetTypeEnum } from '../assets/types.js';
import { ConnectionType, PageArgs, toConnection, type Connection } from '../connection.js';
import type { Context } from '../context.js';
import { CurrentUser, Requires } from '../guard.js';
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

@ObjectType({ implements: NodeInterface, description: 'The outcome of one archive import. Also at GET /archive/import-reports/<id>.json and .csv.' })
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

@ObjectType({ implements: NodeInterface, description: 'A version of an API that an import replaced, kept because enableImportBackup is on (STAGECRAFT_ENABLE_IMPORT_BACKUP).' })
export class ImportBackup {
  @Field(() => ID, { description: 'The backup’s id (restoreImportBackup takes it).' }) id!: string;
  @Field(() => ID, { description: 'The asset it is a version of.' }) assetId!: string;
  @Field(() => AssetTypeEnum, { description: 'The asset’s type.' }) type!: AssetType;
  @Field({ description: 'The asset’s name then.' }) name!: string;
  @Field(() => String, { nullable: true, description: 'The asset’s version then.' }) version!: string | null;
  @Field(() => ID, { description: 'The import (report) that replaced it.' }) importReportId!: string;
  @Field({ description: 'When it was replaced.' }) createdAt!: Date;
  @Field({ description: 'Who ran the import (or the restore) that replaced it.' }) createdBy!: string;
  @Field(() => Date, { nullable: true, description: 'When it was last put back; null if never.' }) restoredAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'Who put it back.' }) restoredBy!: string | null;
}

@Resolver()
export class ArchiveResolver {
  @Requires('IMPORT_ASSETS')
  @Query(() => [ImportBackup], { description: 'Versions of APIs that imports replaced (enableImportBackup), newest first; of one asset when assetId is given.' })
  importBackups(
    @Arg('assetId', () => ID, { nullable: true, description: 'Only this asset’s backups.' }) assetId: string | null,
    @Arg('first', () => Int, { defaultValue: 50, description: 'At most this many (1–500).' }) first: number,
    @Ctx() { services }: Context,
  ): Promise<ImportBackupEntity[]> {
    return services.importBackups.list(assetId, first);
  }

  @Requires('IMPORT_ASSETS')
  @Mutation(() => ImportBackup, { description: 'Puts a backed-up version back in place of the current one, which is kept as a backup in turn (one transaction).' })
  restoreImportBackup(@Arg('id', () => ID, { description: 'The backup’s id (from importBackups).' }) id: string, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<ImportBackupEntity> {
    return services.importBackups.restore(user, id);
  }

  @Requires('IMPORT_ASSETS')
  @Query(() => ImportReportConnection, { description: 'Stored import reports, newest first.' })
  async importReports(
    @Args() page: PageArgs,
    @Ctx() { services }: Context,
  ): Promise<Connection<ImportReportEntity>> {
    return toConnection(await services.importReports.list(page));
  }

  @Requires('IMPORT_ASSETS')
  @Query(() => ImportReport, { description: 'One stored archive import report.' })
  importReport(@Arg('id', () => ID, { description: 'The report’s id.' }) id: string, @Ctx() { services }: Context): Promise<ImportReportEntity> {
    return services.importReports.get(id);
  }
}
