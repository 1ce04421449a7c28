-- koordinator: the canonical database schema (SQLite dialect).
--
-- This file is the source of truth.  `sqlite3 new.db < schema.sql` gives a database that
-- koordinator opens; koordinator itself runs this very file to create new SQLite databases,
-- and tests/test_schema.py proves that the SQLAlchemy models in
-- src/koordinator/core/models.py describe exactly these tables, columns, keys, checks and
-- indexes.  Change both together, raise user_version when the shape changes, and add the
-- step from the old version to src/koordinator/core/migrations.py.
--
-- Conventions
--   * Loose dates ("2021", "2021-06", "2021-06-30") are stored as ISO text of 4, 7 or 10
--     characters.  Text order is then chronological, and a year sorts before its months.
--   * Timestamps are UTC, always 27 characters: 'YYYY-MM-DDTHH:MM:SS.ffffffZ', so that text
--     order is time order.
--   * Milestones, delays and history events carry UUID text ids rather than integers: the
--     TOML snapshots of several coordinators are merged by these ids, so they must never
--     collide between databases.
--   * Nothing is ever deleted: history is the record that snapshots, reports and undo use.

-- The schema version.  koordinator refuses to open a database whose version is newer.
PRAGMA user_version = 2;

BEGIN;

-- The four fields of action (Handlungsfelder) of the strategy.
CREATE TABLE field_of_action (
    code INTEGER NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (code),
    CONSTRAINT field_code_range CHECK (code BETWEEN 1 AND 99),
    CONSTRAINT field_name_not_blank CHECK (length(trim(name)) > 0)
);

-- A measure (Massnahme) of the catalogue.  Its number is "<field>.<sequence>", e.g. "1.10";
-- field_code and sequence are kept as integers so that 1.2 sorts before 1.10.  A number can
-- be reassigned (renumbering, a clash between two databases' new measures); what identifies a
-- measure in every database is `uid`, the id of the history event that created it.
CREATE TABLE measure (
    id INTEGER NOT NULL,
    uid TEXT NOT NULL,
    number TEXT NOT NULL,
    field_code INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    title TEXT NOT NULL,
    -- Responsible unit (Koordination / Projekttraeger), e.g. 'FB 12'; '' when not known.
    unit TEXT NOT NULL DEFAULT '',
    -- 'catalog': adopted with the catalogue on 2019-03-12; 'added': identified later.
    origin TEXT NOT NULL,
    -- Loose date the measure entered the catalogue.
    origin_date TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    -- Raised by every change; lets an editor refuse to overwrite a newer change it has not seen.
    revision INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    -- 1: withdrawn by its author (the undo of its creation) before anyone else changed it;
    -- it leaves lists, counts and the report and its number is free again, its history stays.
    withdrawn BOOLEAN NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE (uid),
    FOREIGN KEY (field_code) REFERENCES field_of_action (code),
    CONSTRAINT measure_number_matches CHECK (number = field_code || '.' || sequence),
    CONSTRAINT measure_sequence_positive CHECK (sequence >= 1),
    CONSTRAINT measure_title_not_blank CHECK (length(trim(title)) > 0),
    CONSTRAINT measure_origin_known CHECK (origin IN ('catalog', 'added')),
    CONSTRAINT measure_status_known CHECK (status IN ('planning', 'on_schedule', 'delayed', 'established', 'handed_over', 'dropped')),
    CONSTRAINT measure_revision_positive CHECK (revision >= 1),
    CONSTRAINT measure_withdrawn_flag CHECK (withdrawn IN (0, 1)),
    CONSTRAINT measure_origin_date_format CHECK (origin_date GLOB '[12][0-9][0-9][0-9]' OR origin_date GLOB '[12][0-9][0-9][0-9]-[01][0-9]' OR origin_date GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    CONSTRAINT measure_updated_at_format CHECK (length(updated_at) = 27 AND updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
);
-- A number belongs to one measure that is not withdrawn.
CREATE UNIQUE INDEX ux_measure_number ON measure (number) WHERE withdrawn = 0;
-- Lists are ordered by field and sequence, and filtered by field.
CREATE INDEX ix_measure_field_sequence ON measure (field_code, sequence);
-- Counting and filtering by status (report, dashboard, `list --status`).
CREATE INDEX ix_measure_status ON measure (status);

-- A milestone of a measure.  `due` and `done_on` are loose dates; a milestone can be done
-- without a known date (done = 1, done_on NULL), as the report often gives none.
CREATE TABLE milestone (
    id TEXT NOT NULL,
    measure_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    due TEXT,
    done BOOLEAN NOT NULL DEFAULT 0,
    done_on TEXT,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY (measure_id) REFERENCES measure (id),
    CONSTRAINT milestone_title_not_blank CHECK (length(trim(title)) > 0),
    CONSTRAINT milestone_done_flag CHECK (done IN (0, 1)),
    CONSTRAINT milestone_done_on_needs_done CHECK (done_on IS NULL OR done = 1),
    CONSTRAINT milestone_due_format CHECK (due IS NULL OR due GLOB '[12][0-9][0-9][0-9]' OR due GLOB '[12][0-9][0-9][0-9]-[01][0-9]' OR due GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    CONSTRAINT milestone_done_on_format CHECK (done_on IS NULL OR done_on GLOB '[12][0-9][0-9][0-9]' OR done_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]' OR done_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    CONSTRAINT milestone_created_at_format CHECK (length(created_at) = 27 AND created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
);
-- A measure's milestones, open ones first (details view, "next milestone" column).
CREATE INDEX ix_milestone_measure_done ON milestone (measure_id, done);

-- A delay of a measure and its cause ('corona' is the common one; others are free text).
-- `until` is the expected end or the new target; `resolved_on` is set once it is over.
CREATE TABLE delay (
    id TEXT NOT NULL,
    measure_id INTEGER NOT NULL,
    cause TEXT NOT NULL,
    since TEXT NOT NULL,
    until TEXT,
    note TEXT NOT NULL DEFAULT '',
    resolved_on TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY (measure_id) REFERENCES measure (id),
    CONSTRAINT delay_cause_not_blank CHECK (length(trim(cause)) > 0),
    CONSTRAINT delay_since_format CHECK (since GLOB '[12][0-9][0-9][0-9]' OR since GLOB '[12][0-9][0-9][0-9]-[01][0-9]' OR since GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    CONSTRAINT delay_until_format CHECK (until IS NULL OR until GLOB '[12][0-9][0-9][0-9]' OR until GLOB '[12][0-9][0-9][0-9]-[01][0-9]' OR until GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    CONSTRAINT delay_resolved_on_format CHECK (resolved_on IS NULL OR resolved_on GLOB '[12][0-9][0-9][0-9]' OR resolved_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]' OR resolved_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    CONSTRAINT delay_created_at_format CHECK (length(created_at) = 27 AND created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
);
-- A measure's open delays (delay marker, consistency checks).
CREATE INDEX ix_delay_measure_resolved ON delay (measure_id, resolved_on);

-- The history: one row per change, never updated or deleted.  Status moves carry
-- from_status/to_status (this is the status history the report is written from); every
-- kind keeps what it changed, before and after, as JSON in `details`, so that a change can
-- be shown, merged and undone.
CREATE TABLE history_event (
    id TEXT NOT NULL,
    measure_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    author TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    from_status TEXT,
    to_status TEXT,
    details TEXT NOT NULL DEFAULT '{}',
    -- Why replay did not apply the event in the state it met after a merge (German), NULL
    -- when it applied: the event stays in the history, marked as a conflict.
    conflict TEXT,
    PRIMARY KEY (id),
    FOREIGN KEY (measure_id) REFERENCES measure (id),
    CONSTRAINT event_kind_known CHECK (kind IN ('measure_created', 'measure_edited', 'status_changed', 'milestone_added', 'milestone_completed', 'milestone_edited', 'delay_logged', 'delay_resolved', 'change_undone', 'measure_renumbered', 'milestone_deleted', 'delay_edited')),
    CONSTRAINT event_author_not_blank CHECK (length(trim(author)) > 0),
    CONSTRAINT event_from_status_known CHECK (from_status IS NULL OR from_status IN ('planning', 'on_schedule', 'delayed', 'established', 'handed_over', 'dropped')),
    CONSTRAINT event_to_status_known CHECK (to_status IS NULL OR to_status IN ('planning', 'on_schedule', 'delayed', 'established', 'handed_over', 'dropped')),
    CONSTRAINT event_status_move_complete CHECK (kind <> 'status_changed' OR (from_status IS NOT NULL AND to_status IS NOT NULL)),
    CONSTRAINT event_occurred_at_format CHECK (length(occurred_at) = 27 AND occurred_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
);
-- A measure's history in time order (details view, `koordinator history NR`).
CREATE INDEX ix_event_measure_time ON history_event (measure_id, occurred_at);
-- The whole history in time order (`koordinator history`, snapshots, reports).
CREATE INDEX ix_event_time ON history_event (occurred_at);
-- "My last change" (undo).
CREATE INDEX ix_event_author_time ON history_event (author, occurred_at);

COMMIT;
