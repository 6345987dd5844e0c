-- 0023: a securities holding (中国结算) may be controlled too: 冻结证券, renewed and released like a
-- bank freeze, for at most three years a term (a freeze of other property rights; see
-- enforcement/domain/measures.py).

ALTER TABLE measure DROP CONSTRAINT measure_asset_kind_check;
ALTER TABLE measure ADD CONSTRAINT measure_asset_kind_check
    CHECK (asset_kind IN ('bank_account', 'vehicle', 'real_estate', 'securities_holding'));
