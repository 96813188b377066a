-- The hash chain as an invariant of the database (DESIGN.md "Storage"): a
-- block row can only be inserted as the genesis of an empty chain or directly
-- on top of the block whose hash it names as previous. Together with the
-- primary key on height this is the compare-and-set that lets two sealers race
-- safely: the loser's whole batch aborts.
--
-- Shape chosen for `wrangler d1 migrations apply`: the condition lives in the
-- WHEN clause and the body is a single statement with no CASE ... END, so
-- wrangler's statement splitter keeps the trigger in one piece.
CREATE TRIGGER IF NOT EXISTS `blocks_chain_link`
BEFORE INSERT ON `blocks`
WHEN NOT (
  (
    NEW.`height` = 0
    AND NEW.`prev_hash` = '0000000000000000000000000000000000000000000000000000000000000000'
    AND NOT EXISTS (SELECT 1 FROM `blocks`)
  )
  OR EXISTS (
    SELECT 1 FROM `blocks` AS `prev`
    WHERE `prev`.`height` = NEW.`height` - 1 AND `prev`.`hash` = NEW.`prev_hash`
  )
)
BEGIN
  SELECT RAISE(ABORT, 'cairn: block does not extend the chain');
END;
