"""The admin view: raters, flagged and refused votes, bans, model registration, exports, settings.

Every action takes the admin token and checks it here, on the server, whatever called it (the
Admin tab, or a client calling its endpoint directly). Without a configured token admin is off.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from arena.domain.abuse import TOO_FAST_ACTIONS, AbuseConfig, AbuseGuard
from arena.domain.registration import register_model
from arena.io.admin_token import TOKEN_ENV, TOKEN_FILE_ENV, check_admin_token
from arena.store import Store
from generators.errors import InputError, PaddockError

ADMIN_OFF = (
    f"**Admin is off.** Set `{TOKEN_ENV}` (or `{TOKEN_FILE_ENV}`, a file holding the token) "
    "before starting the server to use this tab."
)
RATER_COLUMNS = [
    "rater",
    "votes",
    "flagged_votes",
    "refused_votes",
    "refused_battles",
    "gold_seen",
    "gold_accuracy",
    "flags",
    "banned",
    "created_at",
]
#: The targeted-voting flags as the admin sees them: accounts flagged for the same model and
#: direction side by side, the biggest such group first.
TARGETED_COLUMNS = [
    "model",
    "direction",
    "accounts",
    "rater",
    "votes",
    "expected",
    "observed",
    "p_value",
    "q_value",
    "flagged_at",
]


@dataclass
class AdminActions:
    """What the admin may do, each behind the token. `token` is the configured one (or None)."""

    store: Store
    guard: AbuseGuard
    token: str | None

    @property
    def enabled(self) -> bool:
        return self.token is not None

    def _check(self, given: str | None) -> None:
        check_admin_token(self.token, given)

    def raters(self, given: str | None, limit: int = 2000) -> pd.DataFrame:
        """Raters with votes, flagged votes, refused actions (since start), gold, flags, bans."""
        self._check(given)
        frame = self.store.rater_overview(limit)
        refused = self.guard.refused_counts()
        frame["refused_votes"] = [refused.get(r, {}).get("vote", 0) for r in frame["rater"]]
        frame["refused_battles"] = [refused.get(r, {}).get("battle", 0) for r in frame["rater"]]
        frame["flags"] = [_flags_text(f) for f in frame["flags"]]
        frame["gold_accuracy"] = frame["gold_accuracy"].round(3)
        order = frame["refused_votes"] + frame["refused_battles"] + frame["flagged_votes"]
        frame = frame.assign(_order=order).sort_values(
            ["banned", "_order", "votes"], ascending=False, kind="stable"
        )
        return frame[RATER_COLUMNS].reset_index(drop=True)

    def flagged_votes(self, given: str | None, limit: int = 100) -> pd.DataFrame:
        """The latest votes stored with a flag (e.g. too fast)."""
        self._check(given)
        frame = self.store.flagged_votes(limit)
        frame["flags"] = [_flags_text(f) for f in frame["flags"]]
        return frame

    def refusals(self, given: str | None, limit: int = 100) -> pd.DataFrame:
        """The latest refused votes and battle requests (kept in memory, newest first)."""
        self._check(given)
        rows = self.guard.recent_refusals(limit)
        return pd.DataFrame(
            [(r.at, r.action, r.rater_id, r.client_ip, r.reason) for r in rows],
            columns=["at", "action", "rater", "client_ip", "reason"],
        )

    def targeted_flags(self, given: str | None) -> pd.DataFrame:
        """Open targeted-voting flags with their evidence, grouped by model and direction
        (``accounts``: how many raters are flagged for it; larger groups first)."""
        self._check(given)
        frame = self.store.targeted_flags().rename(columns={"rater_id": "rater"})
        frame["accounts"] = frame.groupby(["model", "direction"])["rater"].transform("size")
        frame = frame.sort_values(
            ["accounts", "model", "direction", "q_value", "rater"],
            ascending=[False, True, True, True, True],
            kind="stable",
        )
        frame["expected"] = frame["expected"].round(1)
        frame["observed"] = frame["observed"].round(1)
        return frame[TARGETED_COLUMNS].reset_index(drop=True)

    def held_raters(self, given: str | None) -> pd.DataFrame:
        """Raters held by the surge hold (new accounts during a surge for a model): rater,
        model, direction, votes; their votes are off the board until they are established and
        pass the per-rater test, then the hold lifts by itself."""
        from arena.domain.targeted import HELD_PREFIX, _held_reason

        self._check(given)
        held = self.store.raters_flagged_with(HELD_PREFIX)
        votes = self.store.rater_overview(limit=10**9).set_index("rater")["votes"]
        rows = [(r, *_held_reason(f), int(votes.get(r, 0))) for r, f in held.items()]
        return pd.DataFrame(rows, columns=["rater", "model", "direction", "votes"])

    def clear_flag(self, given: str | None, rater_id: str) -> str:
        """Clear a rater's targeted-voting flags: their votes count again."""
        from arena.domain.targeted import clear_targeted_flag

        self._check(given)
        cleared = clear_targeted_flag(self.store, rater_id, "admin")
        return f"cleared {cleared} targeted-voting flag(s) of {rater_id.strip()}"

    def ban(self, given: str | None, rater_id: str, banned: bool = True) -> str:
        """Ban (or unban) a known rater: their votes are refused and left out of the leaderboard."""
        self._check(given)
        rater_id = (rater_id or "").strip()
        if not rater_id or not self.store.has_rater(rater_id):
            raise InputError(f"unknown rater {rater_id!r}")
        self.store.ban_rater(rater_id, banned)
        return f"{'banned' if banned else 'unbanned'} {rater_id}"

    def register_model(
        self, given: str | None, name: str, generator: str | None = None, parent: str | None = None
    ) -> str:
        self._check(given)
        model = register_model(self.store, name, generator, parent)
        return f"added model {model.name} ({model.kind})"

    def export_votes(self, given: str | None, fmt: str = "csv") -> Path:
        """Every vote in Chatbot Arena's battle layout, as a file to download."""
        from arena.io.battle_files import FORMATS, export_votes

        self._check(given)
        if fmt not in FORMATS:
            raise InputError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
        out = Path(tempfile.mkdtemp(prefix="paddock-export-")) / f"votes.{fmt}"
        export_votes(self.store, out, fmt)
        return out

    def settings(self, given: str | None) -> AbuseConfig:
        self._check(given)
        return self.guard.config

    def apply_settings(self, given: str | None, **values) -> AbuseConfig:
        """Replace the running abuse settings (validated first; nothing changes on a bad value)."""
        self._check(given)
        config = AbuseConfig(**values)
        self.guard.update(config)
        return config


def _flags_text(flags) -> str:
    return "" if flags is None else ", ".join(str(f) for f in flags)


def _ui_error(exc: PaddockError):
    import gradio as gr

    return gr.Error(str(exc), print_exception=False)


def build_admin_tab(actions: AdminActions) -> None:
    """The Admin tab's contents, inside an open gr.Blocks/gr.Tab context.

    Its events are public endpoints (`/admin_overview`, `/admin_ban`, ...): each one checks the
    token it is given, so calling them directly without the token is refused.
    """
    import gradio as gr  # here, so importing the admin actions does not load Gradio

    c = actions.guard.config
    if not actions.enabled:
        gr.Markdown(ADMIN_OFF, elem_id="pd-admin-off")
    with gr.Row(visible=actions.enabled):
        token = gr.Textbox(label="Admin token", type="password", elem_id="pd-admin-token", scale=4)
        open_button = gr.Button("Open", elem_id="pd-admin-open", scale=0)
    status = gr.Markdown(elem_id="pd-admin-status")
    with gr.Column(visible=False) as panel:
        gr.Markdown(
            "### Targeted voting (raters who vote for or against one model beyond the board; "
            "their votes are left out of it until the flag is cleared)"
        )
        targeted = gr.Dataframe(interactive=False, elem_id="pd-admin-targeted")
        gr.Markdown(
            "### Held (new accounts during a surge for one model; their votes wait off the "
            "board until each is established and passes the targeted-voting test)"
        )
        held = gr.Dataframe(interactive=False, elem_id="pd-admin-held")
        gr.Markdown("### Raters (refused counts since the server started)")
        raters = gr.Dataframe(interactive=False, elem_id="pd-admin-raters")
        gr.Markdown("### Recent flagged votes")
        flagged = gr.Dataframe(interactive=False, elem_id="pd-admin-flagged")
        gr.Markdown("### Recent refused votes and battle requests")
        refused = gr.Dataframe(interactive=False, elem_id="pd-admin-refused")
        with gr.Row():
            rater_id = gr.Textbox(label="Rater id", elem_id="pd-admin-rater")
            ban_button = gr.Button("Ban", variant="stop", scale=0)
            unban_button = gr.Button("Unban", scale=0)
            clear_button = gr.Button("Clear targeted flag", scale=0)
        gr.Markdown("### Register a model")
        with gr.Row():
            model_name = gr.Textbox(label="Name")
            model_spec = gr.Textbox(label="Generator spec (e.g. builtin:pony, http:NAME)")
            model_parent = gr.Textbox(label="Parent model (for a checkpoint)")
            register_button = gr.Button("Register", scale=0)
        gr.Markdown("### Export votes")
        with gr.Row():
            export_format = gr.Radio(["csv", "jsonl", "parquet"], value="csv", label="Format")
            export_button = gr.Button("Export", scale=0)
            export_file = gr.File(label="Votes file", interactive=False)
        gr.Markdown("### Abuse settings (apply at once; 0 turns a limit off)")
        with gr.Row():
            window_s = gr.Number(c.window_s, label="Window (s)")
            votes_per_rater = gr.Number(c.votes_per_rater, label="Votes per rater", precision=0)
            votes_per_ip = gr.Number(c.votes_per_ip, label="Votes per address", precision=0)
            battles_per_rater = gr.Number(
                c.battles_per_rater, label="Battles per rater", precision=0
            )
            battles_per_ip = gr.Number(c.battles_per_ip, label="Battles per address", precision=0)
        with gr.Row():
            min_watch = gr.Number(
                c.min_watch_fraction, label="Too fast below this share of the shorter clip"
            )
            too_fast = gr.Radio(list(TOO_FAST_ACTIONS), value=c.too_fast, label="Too-fast votes")
            apply_button = gr.Button("Apply settings", scale=0)
    settings_inputs = [
        window_s,
        votes_per_rater,
        votes_per_ip,
        battles_per_rater,
        battles_per_ip,
        min_watch,
        too_fast,
    ]

    def overview(given: str):
        try:
            tables = (
                actions.targeted_flags(given),
                actions.held_raters(given),
                actions.raters(given),
                actions.flagged_votes(given),
                actions.refusals(given),
            )
            config = actions.settings(given)
        except PaddockError as exc:
            raise _ui_error(exc) from exc
        values = [
            config.window_s,
            config.votes_per_rater,
            config.votes_per_ip,
            config.battles_per_rater,
            config.battles_per_ip,
            config.min_watch_fraction,
            config.too_fast,
        ]
        return (gr.update(visible=True), "", *tables, *values)

    def ban(given: str, rater: str):
        try:
            return actions.ban(given, rater, True), actions.raters(given)
        except PaddockError as exc:
            raise _ui_error(exc) from exc

    def unban(given: str, rater: str):
        try:
            return actions.ban(given, rater, False), actions.raters(given)
        except PaddockError as exc:
            raise _ui_error(exc) from exc

    def clear(given: str, rater: str):
        try:
            return actions.clear_flag(given, rater), actions.targeted_flags(given)
        except PaddockError as exc:
            raise _ui_error(exc) from exc

    def register(given: str, name: str, spec: str, parent: str):
        try:
            return actions.register_model(given, name, spec, parent)
        except PaddockError as exc:
            raise _ui_error(exc) from exc

    def export(given: str, fmt: str):
        try:
            return str(actions.export_votes(given, fmt))
        except PaddockError as exc:
            raise _ui_error(exc) from exc

    def apply(given: str, window, per_rater, per_ip, b_rater, b_ip, fraction, action):
        try:
            config = actions.apply_settings(
                given,
                window_s=float(window),
                votes_per_rater=int(per_rater),
                votes_per_ip=int(per_ip),
                battles_per_rater=int(b_rater),
                battles_per_ip=int(b_ip),
                min_watch_fraction=float(fraction),
                too_fast=str(action),
            )
        except (TypeError, ValueError) as exc:
            raise gr.Error(f"bad setting: {exc}", print_exception=False) from exc
        except PaddockError as exc:
            raise _ui_error(exc) from exc
        shown = ", ".join(f"{k} = {v}" for k, v in config.to_dict().items())
        return f"Settings applied: {shown}"

    overview_outputs = [panel, status, targeted, held, raters, flagged, refused, *settings_inputs]
    gr.on(
        [open_button.click, token.submit],
        overview,
        inputs=[token],
        outputs=overview_outputs,
        api_name="admin_overview",
    )
    ban_button.click(ban, inputs=[token, rater_id], outputs=[status, raters], api_name="admin_ban")
    unban_button.click(
        unban, inputs=[token, rater_id], outputs=[status, raters], api_name="admin_unban"
    )
    clear_button.click(
        clear, inputs=[token, rater_id], outputs=[status, targeted], api_name="admin_clear_flag"
    )
    register_button.click(
        register,
        inputs=[token, model_name, model_spec, model_parent],
        outputs=[status],
        api_name="admin_register_model",
    )
    export_button.click(
        export, inputs=[token, export_format], outputs=[export_file], api_name="admin_export"
    )
    apply_button.click(
        apply, inputs=[token, *settings_inputs], outputs=[status], api_name="admin_settings"
    )


__all__ = ["ADMIN_OFF", "AdminActions", "build_admin_tab"]
