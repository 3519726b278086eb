import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The channel every change of an identifier or its history is announced on, payload its id (empty:
 * a table was truncated).
 */
export const IDENTIFIER_CHANGED_CHANNEL = 'identifier_changed';

/**
 * Every insert, update or delete of an identifier or of its history announces the identifier on
 * `identifier_changed` (NOTIFY is delivered at commit, once per identifier and transaction), so a
 * replica's cache of resolved identifiers drops it whoever made the change: this service, another
 * replica, or an operator with psql.
 */
export class IdentifierChangeNotifications1796500000000 implements MigrationInterface {
  name = 'IdentifierChangeNotifications1796500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION notify_identifier_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM pg_notify('${IDENTIFIER_CHANGED_CHANNEL}', OLD.identifier);
        ELSE
          PERFORM pg_notify('${IDENTIFIER_CHANGED_CHANNEL}', NEW.identifier);
          IF TG_OP = 'UPDATE' AND OLD.identifier <> NEW.identifier THEN
            PERFORM pg_notify('${IDENTIFIER_CHANGED_CHANNEL}', OLD.identifier);
          END IF;
        END IF;
        RETURN NULL;
      END $$`);
    // TRUNCATE fires no row trigger: it announces the whole table with an empty payload.
    await queryRunner.query(`
      CREATE FUNCTION notify_identifiers_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${IDENTIFIER_CHANGED_CHANNEL}', '');
        RETURN NULL;
      END $$`);
    for (const table of ['identifier', 'identifier_transition']) {
      await queryRunner.query(
        `CREATE TRIGGER "${table}_changed" AFTER INSERT OR UPDATE OR DELETE ON "${table}"
           FOR EACH ROW EXECUTE FUNCTION notify_identifier_changed()`,
      );
      await queryRunner.query(
        `CREATE TRIGGER "${table}_truncated" AFTER TRUNCATE ON "${table}"
           FOR EACH STATEMENT EXECUTE FUNCTION notify_identifiers_truncated()`,
      );
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['identifier_transition', 'identifier']) {
      await queryRunner.query(`DROP TRIGGER "${table}_truncated" ON "${table}"`);
      await queryRunner.query(`DROP TRIGGER "${table}_changed" ON "${table}"`);
    }
    await queryRunner.query(`DROP FUNCTION notify_identifiers_truncated()`);
    await queryRunner.query(`DROP FUNCTION notify_identifier_changed()`);
  }
}
