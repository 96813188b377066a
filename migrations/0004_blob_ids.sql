PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_entries` (
	`id` blob PRIMARY KEY NOT NULL,
	`height` integer NOT NULL,
	`idx` integer NOT NULL,
	`entry` text NOT NULL,
	`digest` blob NOT NULL,
	`client` text NOT NULL,
	`received_at` integer NOT NULL,
	`promise` text NOT NULL
);
--> statement-breakpoint
-- Ids and digests were lowercase hex text; unhex() gives their bytes (a chain
-- record's empty digest becomes the empty blob). Text that is not hex would
-- give NULL and fail NOT NULL: the migration then stops, changing nothing.
INSERT INTO `__new_entries`("id", "height", "idx", "entry", "digest", "client", "received_at", "promise") SELECT unhex("id"), "height", "idx", "entry", unhex("digest"), "client", "received_at", "promise" FROM `entries`;--> statement-breakpoint
DROP TABLE `entries`;--> statement-breakpoint
ALTER TABLE `__new_entries` RENAME TO `entries`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `entries_digest` ON `entries` (`digest`);--> statement-breakpoint
CREATE UNIQUE INDEX `entries_height_idx` ON `entries` (`height`,`idx`);--> statement-breakpoint
CREATE TABLE `__new_pending` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` blob NOT NULL,
	`entry` text NOT NULL,
	`digest` blob NOT NULL,
	`client` text NOT NULL,
	`received_at` integer NOT NULL,
	`promise` text NOT NULL
);
--> statement-breakpoint
INSERT INTO `__new_pending`("seq", "id", "entry", "digest", "client", "received_at", "promise") SELECT "seq", unhex("id"), "entry", unhex("digest"), "client", "received_at", "promise" FROM `pending`;--> statement-breakpoint
DROP TABLE `pending`;--> statement-breakpoint
ALTER TABLE `__new_pending` RENAME TO `pending`;--> statement-breakpoint
CREATE UNIQUE INDEX `pending_id_unique` ON `pending` (`id`);