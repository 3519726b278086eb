import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** An alert rule (AlertRule in the API). */
@Entity({ name: 'alert_rule' })
export class AlertRuleEntity {
  @PrimaryColumn({
    name: 'rule_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_alert_rule',
  })
  ruleId!: string;

  @Column({ name: 'domain', type: 'varchar', length: 16 })
  domain!: string;

  @Column({ name: 'metric', type: 'varchar', length: 64 })
  metric!: string;

  @Column({ name: 'region_code', type: 'varchar', length: 16 })
  regionCode!: string;

  @Column({ name: 'accelerator', type: 'varchar', length: 64 })
  accelerator!: string;

  @Column({ name: 'service', type: 'varchar', length: 64 })
  service!: string;

  /** above or below. */
  @Column({ name: 'comparison', type: 'varchar', length: 8 })
  comparison!: string;

  @Column({ name: 'threshold', type: 'double precision' })
  threshold!: number;

  @Column({ name: 'for_minutes', type: 'integer' })
  forMinutes!: number;

  @Column({ name: 'severity', type: 'varchar', length: 16 })
  severity!: string;

  @Column({ name: 'description', type: 'varchar', length: 500 })
  description!: string;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** An alert: a rule's condition on one series, raised and later resolved. */
@Entity({ name: 'alert' })
@Index('ix_alert_raised_at', ['raisedAt', 'alertId'])
@Index('ux_alert_firing', ['ruleId', 'seriesKey'], { unique: true, where: 'resolved_at IS NULL' })
export class AlertEntity {
  @PrimaryColumn({ name: 'alert_id', type: 'uuid', primaryKeyConstraintName: 'pk_alert' })
  alertId!: string;

  @Column({ name: 'rule_id', type: 'varchar', length: 64 })
  ruleId!: string;

  /** region, accelerator, service and kind label joined: one alert per rule and series. */
  @Column({ name: 'series_key', type: 'varchar', length: 256 })
  seriesKey!: string;

  @Column({ name: 'domain', type: 'varchar', length: 16 })
  domain!: string;

  @Column({ name: 'metric', type: 'varchar', length: 64 })
  metric!: string;

  @Column({ name: 'region_code', type: 'varchar', length: 16 })
  regionCode!: string;

  @Column({ name: 'accelerator', type: 'varchar', length: 64 })
  accelerator!: string;

  @Column({ name: 'service', type: 'varchar', length: 64 })
  service!: string;

  @Column({ name: 'kind_label', type: 'varchar', length: 64 })
  kindLabel!: string;

  @Column({ name: 'severity', type: 'varchar', length: 16 })
  severity!: string;

  @Column({ name: 'value', type: 'double precision' })
  value!: number;

  @Column({ name: 'threshold', type: 'double precision' })
  threshold!: number;

  @Column({ name: 'raised_at', type: 'timestamptz' })
  raisedAt!: Date;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt!: Date | null;
}
