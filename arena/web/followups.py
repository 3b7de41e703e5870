"""The page's follow-up questions: after the vote, one aspect at a time, A / B / tie or skip.

Never required: the next battle stays one key away, and skipping writes nothing. Each answer
goes through the same domain function as the JSON route (token, rate limits, one per aspect).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from arena.domain.abuse import AbuseGuard
from arena.domain.battles import submit_aspect_vote
from arena.errors import AlreadyVoted
from arena.store import ASPECTS, Store
from generators.errors import PaddockError

#: (label, outcome or None for skip, element id); the keys are handled in player.js.
BUTTONS = (
    ("A  [1]", "left", "pd-asp-a"),
    ("B  [2]", "right", "pd-asp-b"),
    ("Tie  [3]", "tie", "pd-asp-tie"),
    ("Skip  [0]", None, "pd-asp-skip"),
)


@dataclass
class Followups:
    """The follow-up row's components: the question, its buttons, the questions left (JSON)."""

    row: gr.Row
    question: gr.Markdown
    buttons: list[tuple[gr.Button, str | None]]
    left: gr.Textbox

    @property
    def outputs(self) -> list:
        return [self.row, self.question, self.left]


def build_followups() -> Followups:
    """The (hidden) follow-up row, made inside the arena tab's layout."""
    with gr.Row(visible=False, elem_id="pd-followup", equal_height=True) as row:
        question = gr.Markdown(elem_id="pd-followup-q")
        buttons = [
            (gr.Button(label, elem_id=elem, size="sm", scale=0, min_width=70), outcome)
            for label, outcome, elem in BUTTONS
        ]
    left = gr.Textbox(
        elem_id="pd-followup-left", elem_classes=["pd-hidden"], show_label=False, container=False
    )
    return Followups(row, question, buttons, left)


def _show(remaining: list[str], note: str = "") -> tuple:
    """The row's updates for the first remaining question, or hidden when none is left."""
    if not remaining:
        return gr.update(visible=False), gr.update(value=""), json.dumps([])
    aspect = remaining[0]
    number = f"{note}**Also:** {ASPECTS[aspect]} "
    text = number + "<small>(optional: skip with 0, next battle with N)</small>"
    return gr.update(visible=True), gr.update(value=text), json.dumps(remaining)


def hidden() -> tuple:
    return _show([])


def wire_followups(
    followups: Followups,
    store: Store,
    guard: AbuseGuard,
    aspects: tuple[str, ...],
    battle_box: gr.Textbox,
    rater: gr.BrowserState,
    client_ip,
) -> Callable:
    """Hook the buttons up; returns the function to chain after each vote click."""

    def first(state: str) -> tuple:
        # Asked only once the battle's vote is stored (a refused vote asks nothing).
        try:
            battle_id = json.loads(state or "{}").get("battle_id", "")
            store.reveal(battle_id)
            answered = store.aspect_answers(battle_id)
        except (PaddockError, ValueError, AttributeError):
            return hidden()
        return _show([a for a in aspects if a not in answered])

    def answer(outcome, state: str, rater_id: str, left: str, request: gr.Request) -> tuple:
        try:
            remaining = list(json.loads(left or "[]"))
            battle = json.loads(state or "{}")
        except ValueError:
            return hidden()
        if not remaining:
            return hidden()
        note = ""
        if outcome is not None:
            try:
                submit_aspect_vote(
                    store,
                    battle.get("battle_id", ""),
                    battle.get("token", ""),
                    rater_id,
                    remaining[0],
                    outcome,
                    aspects,
                    client_ip=client_ip(request),
                    guard=guard,
                )
            except AlreadyVoted:
                pass  # a repeated click: the answer is stored once; go on
            except PaddockError as exc:
                note = f"*Not counted: {exc}.* "
        return _show(remaining[1:], note)

    def bound(outcome: str | None):
        def handler(state: str, rater_id: str, left: str, request: gr.Request) -> tuple:
            return answer(outcome, state, rater_id, left, request)

        return handler

    for button, outcome in followups.buttons:
        button.click(
            bound(outcome),
            inputs=[battle_box, rater, followups.left],
            outputs=followups.outputs,
            api_visibility="private",
            trigger_mode="once",
        )

    def after_vote(event) -> None:
        event.then(first, inputs=[battle_box], outputs=followups.outputs, api_visibility="private")

    return after_vote
