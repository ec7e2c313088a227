"""Settings for every DebtLedger process: one pydantic-settings object, read from the
environment (prefix DEBTLEDGER_) and an optional .env file."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from debtledger.errors import ConfigError

DEFAULT_KEY_PASSWORD = "local-dev-only"  # noqa: S105 - refused outside local mode
LOCAL_SMS_TOKEN = "local-dev-sms"  # noqa: S105 - the local provider's token in local mode


class Settings(BaseSettings):
    """Where data lives, which node to talk to, and how the local node runs."""

    model_config = SettingsConfigDict(env_prefix="DEBTLEDGER_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Folder for state, keys, outbox.")
    mode: str = Field(default="local", description="'local' (dev node) or 'consortium'.")
    rpc_url: str | None = Field(default=None, description="JSON-RPC URL; unset: the local node.")
    store_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the store; unset: SQLite in the data folder."
    )
    node_host: str = "127.0.0.1"
    node_port: int = 8545
    chain_id: int = 31337
    block_gas_limit: int = 2_000_000_000
    snapshot_interval_s: float = 2.0
    key_password: str = DEFAULT_KEY_PASSWORD
    receipt_timeout_s: float = 120.0
    gas_price_wei: int | None = Field(
        default=None, description="Gas price for a remote node; unset: the node's eth_gasPrice."
    )

    # Privacy: the linkage service's PRF key and the PII vault's master keys (hex, 32 bytes).
    # Unset in local mode: random keys made once in the data folder (secrets/); required otherwise.
    linkage_key: str | None = Field(default=None, description="Pseudonym PRF key, 64 hex.")
    vault_master_keys: str | None = Field(
        default=None,
        description="Vault master keys as 'id:hex,id:hex'; the first wraps new data keys.",
    )

    # Masked contact gateway: where it sends.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_sender: str = "collections@debtledger.invalid"
    sms_provider_url: str = "http://127.0.0.1:8026/messages"
    sms_provider_token: str | None = Field(
        default=None, description="The SMS provider's API token; local mode: the local provider's."
    )

    # Evidence batching: a batch closes at this many items or after this many seconds.
    evidence_batch_size: int = 10_000
    evidence_batch_seconds: float = 5.0

    @cached_property
    def local_node(self) -> bool:
        """True when DebtLedger itself runs the node (anvil) rather than using `rpc_url`."""
        return self.rpc_url is None

    @property
    def node_url(self) -> str:
        """The JSON-RPC URL every chain call goes to."""
        return self.rpc_url or f"http://{self.node_host}:{self.node_port}"

    @property
    def node_dir(self) -> Path:
        return self.data_dir / "node"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def sms_token(self) -> str | None:
        """The SMS provider token: the setting, or in local mode the local provider's."""
        return self.sms_provider_token or (LOCAL_SMS_TOKEN if self.mode == "local" else None)

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def deployment_file(self) -> Path:
        return self.data_dir / "deployment.json"

    @property
    def database_url(self) -> str:
        """The store: `store_url` when set (PostgreSQL), else SQLite in the data folder."""
        return self.store_url or f"sqlite:///{self.data_dir / 'debtledger.sqlite'}"

    def check(self) -> None:
        """Refuse the built-in development secret outside local mode."""
        if self.mode not in ("local", "consortium"):
            raise ConfigError(f"mode must be 'local' or 'consortium', not {self.mode!r}")
        if self.mode != "local" and self.key_password == DEFAULT_KEY_PASSWORD:
            raise ConfigError(
                "set DEBTLEDGER_KEY_PASSWORD: the default key password is for local mode"
            )
        if self.mode != "local" and not (self.linkage_key and self.vault_master_keys):
            raise ConfigError(
                "set DEBTLEDGER_LINKAGE_KEY and DEBTLEDGER_VAULT_MASTER_KEYS outside local mode"
            )


def get_settings(**overrides: object) -> Settings:
    """Build the settings, with explicit overrides winning over the environment."""
    settings = Settings(**overrides)  # type: ignore[arg-type]
    settings.check()
    return settings
