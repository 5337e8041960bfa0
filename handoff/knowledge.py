"""“Turn into knowledge”: the citizen's question and the agent's answer become a draft FAQ in the editors'
review queue, on an existing guide or on a new one. Reviewers publish it as any other draft (four eyes: the
agent who drafted it cannot), after which the bot answers the question itself."""
from __future__ import annotations

from dataclasses import dataclass

from core.masking import mask_personal_data
from handoff.models import Ticket, TicketMessage
from knowledge_base.schema import Faq, GuideData
from knowledge_base.workflow import KnowledgeBase, WorkflowError


@dataclass(frozen=True)
class Drafted:
    code: str
    title: str
    status: str  # in_review (queued for reviewers) | draft (the guide had unsubmitted edits: its editor submits)
    question: str
    answer: str


def suggested_pair(ticket: Ticket, messages: list[TicketMessage]) -> tuple[str, str]:
    """The citizen's question (before the hand-off: the last one the bot did not answer, else their last;
    without one: their first words to the agent) and the agent's last answer."""
    lines = ticket.transcript
    asked = [(line["text"], lines[i + 1].get("decision") if i + 1 < len(lines) else "")
             for i, line in enumerate(lines)
             if line.get("author") == "citizen" and not any(w in line["text"] for w in ("人工", "客服"))]
    unanswered = [q for q, decision in asked if decision != "answer"]
    after = [m.text for m in messages if m.author == "citizen"]
    answers = [m.text for m in messages if m.author == "agent"]
    question = (unanswered or [q for q, _ in asked] or after[:1] or [""])[-1]
    return question, (answers[-1] if answers else "")


def to_knowledge(kb: KnowledgeBase, ticket: Ticket, messages: list[TicketMessage], actor: str, question: str = "",
                 answer: str = "", code: str = "", title: str = "") -> Drafted:
    default_q, default_a = suggested_pair(ticket, messages)
    question = mask_personal_data((question or default_q).strip())
    answer = mask_personal_data((answer or default_a).strip())
    if not question or not answer:
        raise WorkflowError("需要市民的问题和客服的答复 / a question and an answer are needed", 422)
    faq = Faq(question=question, answer=answer)
    if code:
        guide = kb.get(code)
        data = GuideData.model_validate(guide.draft)
        data.faqs.append(faq)
        saved = kb.save_draft(data, actor, revision=guide.revision)
        submit = guide.status in ("published", "archived")  # no one else's unsubmitted edits ride along
    else:
        data = GuideData(code=f"RX-{ticket.id:05d}", title=(title or question)[:60].strip(),
                         department=ticket.skill_group, faqs=[faq], keywords=[])
        saved = kb.save_draft(data, actor, create_only=True)
        submit = True
    if submit:
        saved = kb.submit(data.code, actor)
    return Drafted(data.code, data.title, saved.status, question, answer)
