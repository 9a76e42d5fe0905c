import { bigint, index, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { experiments } from './experiments.js';

/**
 * W&B namespaces (docs/teams.md#namespaces): the MLflow experiment behind entity E's project p.
 * The first entity to use `p` gets the experiment named `p`; any other entity gets `E/p` (`/` is
 * forbidden in W&B names, so that can never be another project's plain name). Several entities
 * may map to one experiment only for projects shared before namespaces existed (migration 0018).
 */
export const wandbProjects = pgTable(
  'wandb_projects',
  {
    entity: text('entity').notNull(),
    name: text('name').notNull(),
    experimentId: bigint('experiment_id', { mode: 'number' })
      .notNull()
      .references(() => experiments.experimentId, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.entity, t.name] }), index('wandb_projects_experiment_idx').on(t.experimentId)],
);
