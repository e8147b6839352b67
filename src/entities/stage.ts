import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** Another Stagecraft instance this one promotes to. */
@Entity('stages')
export class StageEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 40, unique: true })
  name!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Column({ type: 'varchar', length: 500 })
  url!: string;

  @Column({ type: 'varchar', length: 64 })
  username!: string;

  /** Sealed with the instance key; never returned or logged. */
  @Column({ name: 'sealed_password', type: 'text' })
  sealedPassword!: string;

  @Column({ name: 'keystore_alias', type: 'varchar', length: 100, nullable: true })
  keystoreAlias!: string | null;

  @Column({ name: 'key_alias', type: 'varchar', length: 100, nullable: true })
  keyAlias!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
