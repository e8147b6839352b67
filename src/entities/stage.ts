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

  /** PEM certificate(s) trusted for an https stage's certificate; null = the system's CAs. */
  @Column({ name: 'ca_certificate', type: 'text', nullable: true })
  caCertificate!: string | null;

  /** PEM client certificate presented to an https stage (mutual TLS); public. */
  @Column({ name: 'client_certificate', type: 'text', nullable: true })
  clientCertificate!: string | null;

  /** The client certificate's private key, sealed with the instance key; never returned or logged. */
  @Column({ name: 'sealed_client_key', type: 'text', nullable: true })
  sealedClientKey!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
