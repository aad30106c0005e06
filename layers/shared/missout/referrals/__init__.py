"""The referral program: who referred whom (registered once, signed by the referred wallet), what each
referrer earned per mint (allocated by the monitor at payout, `missout.pools.outcome`), claims that move a
pending balance into a claim row, and the monitor's payout of queued claims (`payouts`)."""
