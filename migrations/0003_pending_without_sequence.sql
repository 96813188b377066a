PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_pending` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`entry` text NOT NULL,
	`digest` text NOT NULL,
	`client` text NOT NULL,
	`received_at` integer NOT NULL,
	`promise` text NOT NULL
);
--> statement-breakpoint
INSERT INTO `__new_pending`("seq", "id", "entry", "digest", "client", "received_at", "promise") SELECT "seq", "id", "entry", "digest", "client", "received_at", "promise" FROM `pending`;--> statement-breakpoint
DROP TABLE `pending`;--> statement-breakpoint
ALTER TABLE `__new_pending` RENAME TO `pending`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `pending_id_unique` ON `pending` (`id`);