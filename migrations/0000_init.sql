CREATE TABLE `batch_tiles` (
	`height` integer NOT NULL,
	`level` integer NOT NULL,
	`tile` integer NOT NULL,
	`hashes` blob NOT NULL,
	PRIMARY KEY(`height`, `level`, `tile`)
);
--> statement-breakpoint
CREATE TABLE `blocks` (
	`height` integer PRIMARY KEY NOT NULL,
	`hash` text NOT NULL,
	`prev_hash` text NOT NULL,
	`header` text NOT NULL,
	`size` integer NOT NULL,
	`sealed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `blocks_hash_unique` ON `blocks` (`hash`);--> statement-breakpoint
CREATE TABLE `checkpoints` (
	`size` integer PRIMARY KEY NOT NULL,
	`note` text NOT NULL,
	`cosigners` text NOT NULL,
	`cosigner_count` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `clients` (
	`name` text PRIMARY KEY NOT NULL,
	`key` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE TABLE `entries` (
	`id` text PRIMARY KEY NOT NULL,
	`height` integer NOT NULL,
	`idx` integer NOT NULL,
	`entry` text NOT NULL,
	`digest` text NOT NULL,
	`client` text NOT NULL,
	`received_at` integer NOT NULL,
	`promise` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `entries_digest` ON `entries` (`digest`);--> statement-breakpoint
CREATE UNIQUE INDEX `entries_height_idx` ON `entries` (`height`,`idx`);--> statement-breakpoint
CREATE TABLE `history_hashes` (
	`level` integer NOT NULL,
	`idx` integer NOT NULL,
	`hash` blob NOT NULL,
	PRIMARY KEY(`level`, `idx`)
);
--> statement-breakpoint
CREATE TABLE `pending` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`entry` text NOT NULL,
	`digest` text NOT NULL,
	`client` text NOT NULL,
	`received_at` integer NOT NULL,
	`promise` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `pending_id_unique` ON `pending` (`id`);--> statement-breakpoint
CREATE INDEX `pending_digest` ON `pending` (`digest`);--> statement-breakpoint
CREATE TABLE `replica_status` (
	`member` text PRIMARY KEY NOT NULL,
	`size` integer NOT NULL,
	`hash` text NOT NULL,
	`status` text NOT NULL,
	`detail` text,
	`evidence` text,
	`updated_at` integer NOT NULL
);
