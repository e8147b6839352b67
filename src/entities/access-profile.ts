import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn, type Relation } from 'typeorm';
import { UserEntity } from './user.js';

/**
 * An access profile: a named set of functional privileges. Built-in ones (one per role) are
 * rows too, so groups can hold them; their privileges come from the code (domain/privileges.ts).
 */
@Entity('access_profiles')
export class AccessProfileEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The display name, as typed ("Release managers"). */
  @Column({ type: 'varchar', length: 100, unique: true })
  name!: string;

  @Column({ type: 'varchar', length: 1000, default: '' })
  description!: string;

  @Column({ type: 'varchar', length: 32, array: true, default: () => "'{}'" })
  privileges!: string[];

  @Column({ name: 'built_in', type: 'boolean', default: false })
  builtIn!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** A group of users; the profiles it holds grant their privileges to every member. */
@Entity('user_groups')
export class UserGroupEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 100, unique: true })
  name!: string;

  @Column({ type: 'varchar', length: 1000, default: '' })
  description!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

@Entity('user_group_members')
export class UserGroupMemberEntity {
  @PrimaryColumn({ name: 'group_id', type: 'uuid' })
  groupId!: string;

  @Index('idx_user_group_members_user')
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => UserGroupEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id' })
  group!: Relation<UserGroupEntity>;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user!: Relation<UserEntity>;
}

@Entity('user_group_profiles')
export class UserGroupProfileEntity {
  @PrimaryColumn({ name: 'group_id', type: 'uuid' })
  groupId!: string;

  @Index('idx_user_group_profiles_profile')
  @PrimaryColumn({ name: 'profile_id', type: 'uuid' })
  profileId!: string;

  @ManyToOne(() => UserGroupEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id' })
  group!: Relation<UserGroupEntity>;

  /** RESTRICT: a profile still held by a group is not deleted behind the group's back. */
  @ManyToOne(() => AccessProfileEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'profile_id' })
  profile!: Relation<AccessProfileEntity>;
}
