"""Which PriceSource the settings ask for: the user's stored prices unless a provider is set.

``ALEX_PRICES_PROVIDER=none`` (the default) never reaches the network; the online adapter is
imported and built only when named, with its key (the settings refuse a provider without one).
"""

from __future__ import annotations

from alex.adapters.stored_prices import StoredPrices
from alex.config import Settings
from alex.domain.errors import ConfigError
from alex.ports import PortfolioStore, PriceSource


def price_source(settings: Settings, store: PortfolioStore) -> PriceSource:
    if settings.prices_provider == "none":
        return StoredPrices(store)
    if settings.prices_api_key is None:  # the settings refuse this; kept for direct callers
        raise ConfigError(f"ALEX_PRICES_API_KEY must be set for {settings.prices_provider}")
    from alex.adapters.twelvedata_prices import TwelveDataPrices

    return TwelveDataPrices(settings.prices_api_key.get_secret_value())
