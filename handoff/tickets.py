"""The hand-off desk: opening tickets (the conversation goes to a human), the queue with atomic claims,
the human part of the conversation in both directions, transfer, release of offline agents, closing.

Claims cannot double-book: the UPDATE only matches a ticket still `new` and unassigned, and on PostgreSQL the
row is first taken with `SELECT … FOR UPDATE SKIP LOCKED`, so a racing agent moves on instead of waiting.
Every change is published on the hub: `queue` for the consoles, `conversation:{sender}` for the citizen."""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.db import Database
from core.hub import Hub
from core.masking import mask_personal_data
from handoff.calendar import ConfigFile, HandoffConfig
from handoff.delivery import Deliveries, Delivered
from handoff.models import CATEGORIES, OPEN_STATUSES, Agent, Conversation, Ticket, TicketMessage
from knowledge_base.workflow import KnowledgeBase

QUEUE_TOPIC = "queue"
PRESENCE_TIMEOUT = dt.timedelta(seconds=90)  # a console heartbeats every 20 s; silence this long is offline
END_PHRASES = ("结束人工", "退出人工", "返回机器人", "回到智能客服", "不用人工了")
MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d{9})(?!\d)")
PRIORITY_BY_REASON = {"sensitive": "urgent", "complaint": "high", "unsatisfied": "high"}
CATEGORY_BY_KIND = {"complaint": "投诉", "suggestion": "建议", "handoff": "咨询"}
AGENT_JOINED = "客服 {agent} 已接入，正在为您服务。"
ENDED = "本次人工服务已结束，感谢您的耐心。您可以继续向智能客服提问。"
BACK_TO_BOT = "好的，已为您结束人工服务，您可以继续向智能客服提问。"


class HandoffError(Exception):
    """A request the desk refuses; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Opened:
    ticket: Ticket
    position: int  # in the queue (0: already with an agent)
    wait_minutes: int
    open_now: bool  # within working hours
    new: bool  # False: the conversation already had an open ticket


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


class Desk:
    def __init__(self, db: Database, hub: Hub, kb: KnowledgeBase, config: ConfigFile,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.db, self.hub, self.kb, self.config_file, self.clock = db, hub, kb, config, clock
        self.deliveries = Deliveries(hub)

    @property
    def config(self) -> HandoffConfig:
        return self.config_file.get()

    # ---- events ---------------------------------------------------------------------------------------
    def _announce(self, ticket: Ticket, event: str, **extra: Any) -> None:
        self.hub.publish(QUEUE_TOPIC, {"type": "ticket", "event": event, "id": ticket.id, "status": ticket.status,
                                       "assignee": ticket.assignee, "sender_id": ticket.sender_id, **extra})

    def _tell_citizen(self, ticket: Ticket, kind: str, text: str, **extra: Any) -> None:
        """A system line for the citizen's open pages (WebSocket) and the ticket's record."""
        with self.db.session() as s:
            s.add(TicketMessage(ticket_id=ticket.id, sender_id=ticket.sender_id, author="system", text=text,
                                delivery="websocket"))
        self.deliveries.push(ticket.sender_id, {"type": kind, "author": "system", "text": text, "ticket": ticket.id,
                                                **extra})

    # ---- the queue ------------------------------------------------------------------------------------
    def queue_position(self, s: Session, ticket: Ticket) -> int:
        if ticket.status != "new":
            return 0
        return s.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.status == "new", Ticket.id <= ticket.id)) or 1

    def _online_agents(self, s: Session) -> int:
        since = self.clock() - PRESENCE_TIMEOUT
        return s.scalar(select(func.count()).select_from(Agent).where(Agent.online, Agent.last_seen_at >= since)) or 0

    def wait_minutes(self, s: Session, position: int) -> int:
        if position <= 0:
            return 0
        return max(1, math.ceil(position * self.config.minutes_per_ticket / max(1, self._online_agents(s))))

    def _skill_group(self, transcript: list[dict]) -> str:
        for line in reversed(transcript):
            for match in line.get("matches") or []:
                guide = self.kb.live_guide(match.get("code", ""))
                if guide and guide.department:
                    return guide.department
        return ""

    def open(self, sender_id: str, channel: str, kind: str, reason: str, transcript: list[dict],
             category: str = "", content: str = "", contact: str = "", live: bool = True,
             assignee: str = "", topic: str = "") -> Opened:
        """A ticket for this conversation (its open one if it has one). `live`: the conversation goes to a
        human now (a hand-off); complaints and suggestions stay with the bot until an agent picks them up."""
        now = self.clock()
        open_now = self.config.is_open(now)
        masked = [{**line, "text": mask_personal_data(line.get("text", ""))} for line in transcript]
        priority = PRIORITY_BY_REASON.get(reason, "normal")
        with self.db.session() as s:
            conv = s.get(Conversation, sender_id, with_for_update=True)
            if conv is None:
                conv = Conversation(sender_id=sender_id, channel=channel)
                s.add(conv)
            existing = s.scalars(select(Ticket).where(Ticket.sender_id == sender_id,
                                                      Ticket.status.in_(OPEN_STATUSES))
                                 .order_by(Ticket.id.desc())).first()
            if existing is not None and kind == "handoff":
                ticket, new = existing, False
            else:
                ticket = Ticket(kind=kind, reason=reason, sender_id=sender_id, channel=conv.channel or channel,
                                category=category or CATEGORY_BY_KIND.get(kind, "咨询"), topic=topic[:40],
                                priority=priority,
                                skill_group=self._skill_group(masked), content=mask_personal_data(content),
                                contact=contact, transcript=masked, callback=live and not open_now,
                                sla_due_at=self.config.sla_due(now, priority), created_at=now)
                if assignee:
                    ticket.assignee, ticket.status, ticket.claimed_at = assignee, "assigned", now
                s.add(ticket)
                new = True
            if live or assignee:
                conv.mode = "human"
            s.flush()
            position = self.queue_position(s, ticket)
            opened = Opened(ticket, position, self.wait_minutes(s, position), open_now, new)
        if new:
            self._announce(ticket, "created")
        return opened

    def waiting_text(self, opened: Opened) -> str:
        """What the citizen is told on hand-off: the ticket, their place and the expected wait, or the hours."""
        t = opened.ticket
        if not opened.open_now:
            nxt = self.config.next_open(self.clock())
            when = nxt.strftime("%m月%d日 %H:%M") if nxt else "下一个工作日"
            return (f"现在是非工作时间（人工服务时间：{self.config.hours_text()}），已为您登记回电请求，"
                    f"工单号 {t.id}，客服将于 {when} 后处理。如同意工作人员回电，请直接发送您的手机号；"
                    "也可拨打12345热线。说“结束人工”可回到智能客服。")
        if t.status != "new":
            return f"客服 {t.assignee} 正在为您服务（工单号 {t.id}），请直接在这里留言。说“结束人工”可回到智能客服。"
        return (f"已为您转接人工客服（工单号 {t.id}），您前面还有 {opened.position - 1} 位，预计等待约 "
                f"{opened.wait_minutes} 分钟。客服会在这里直接回复您，请不要关闭对话；说“结束人工”可回到智能客服。")

    # ---- the citizen's side ---------------------------------------------------------------------------
    def open_ticket_of(self, sender_id: str) -> Ticket | None:
        with self.db.session() as s:
            return s.scalars(select(Ticket).where(Ticket.sender_id == sender_id, Ticket.status.in_(OPEN_STATUSES))
                             .order_by(Ticket.id.desc())).first()

    def citizen_says(self, sender_id: str, text: str) -> list[str] | None:
        """A message of a conversation in human mode: stored on its ticket and pushed to the consoles.
        Returns what to answer at once (nothing while an agent is on it), or None when no ticket is open
        any more: the conversation is back with the bot (a citizen is never stuck in human mode)."""
        if any(p in text for p in END_PHRASES):
            ticket = self.open_ticket_of(sender_id)
            if ticket is not None:
                self._finish(ticket.id, "", "resolved", "citizen", resolution="市民结束人工服务")
            self.set_mode(sender_id, "bot")
            return [BACK_TO_BOT]
        with self.db.session() as s:
            ticket = s.scalars(select(Ticket).where(Ticket.sender_id == sender_id, Ticket.status.in_(OPEN_STATUSES))
                               .order_by(Ticket.id.desc()).with_for_update()).first()
            if ticket is None:
                conv = s.get(Conversation, sender_id)
                if conv is not None:
                    conv.mode = "bot"
                return None
            s.add(TicketMessage(ticket_id=ticket.id, sender_id=sender_id, author="citizen",
                                text=mask_personal_data(text)))
            phone = MOBILE.search(text)
            if ticket.callback and phone:  # given after we asked for it: consent to be called back
                ticket.contact = phone.group(1)
            if ticket.status == "waiting":
                ticket.status = "assigned"
            position = self.queue_position(s, ticket)
            wait = self.wait_minutes(s, position)
        self.hub.publish(QUEUE_TOPIC, {"type": "message", "id": ticket.id, "sender_id": sender_id,
                                       "author": "citizen", "text": mask_personal_data(text)})
        if ticket.callback and phone:
            return [f"已记录您同意回电的号码（{mask_personal_data(phone.group(1))}），工作人员上班后会尽快与您联系。"]
        if ticket.status != "new":
            return []
        if not self.config.is_open(self.clock()):
            return [f"现在是非工作时间（人工服务时间：{self.config.hours_text()}），您的留言已记入工单 {ticket.id}。"
                    "说“结束人工”可回到智能客服。"]
        return [f"已收到。您前面还有 {position - 1} 位，预计等待约 {wait} 分钟，请稍候。说“结束人工”可回到智能客服。"]

    def escalate(self, sender_id: str, why: str) -> Ticket | None:
        """The open ticket of a conversation becomes urgent (its first response due by the urgent SLA, if that
        is sooner) and its agents are told why, in a note and on the queue; None when no ticket is open."""
        now = self.clock()
        with self.db.session() as s:
            ticket = s.scalars(select(Ticket).where(Ticket.sender_id == sender_id, Ticket.status.in_(OPEN_STATUSES))
                               .order_by(Ticket.id.desc()).with_for_update()).first()
            if ticket is None:
                return None
            due = self.config.sla_due(now, "urgent")
            if due is not None and (ticket.sla_due_at is None or due < _aware(ticket.sla_due_at)):
                ticket.sla_due_at = due
            ticket.priority = "urgent"
            s.add(TicketMessage(ticket_id=ticket.id, sender_id="", author="note", agent="系统", text=why))
        self._announce(ticket, "escalated", priority="urgent", note=why)
        return ticket

    def set_mode(self, sender_id: str, mode: str) -> None:
        with self.db.session() as s:
            conv = s.get(Conversation, sender_id)
            if conv is not None:
                conv.mode = mode

    def rate(self, sender_id: str, rating: str) -> Ticket:
        """The citizen's rating of the human service, on their latest finished ticket."""
        with self.db.session() as s:
            ticket = s.scalars(select(Ticket).where(Ticket.sender_id == sender_id,
                                                    Ticket.status.in_(("resolved", "closed")))
                               .order_by(Ticket.id.desc())).first()
            if ticket is None:
                raise HandoffError("没有可以评价的人工服务", 404)
            ticket.rating = rating
        self._announce(ticket, "rated", rating=rating)
        return ticket

    # ---- the agents' side -----------------------------------------------------------------------------
    def get(self, ticket_id: int) -> Ticket:
        with self.db.session() as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None:
                raise HandoffError(f"工单 {ticket_id} 不存在 / no ticket {ticket_id}", 404)
            return ticket

    def messages(self, ticket_id: int) -> list[TicketMessage]:
        with self.db.session() as s:
            return list(s.scalars(select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
                                  .order_by(TicketMessage.id)))

    def list(self, status: str = "", assignee: str = "", limit: int = 200) -> list[Ticket]:
        """Open tickets by default, the most urgent (earliest SLA due) first."""
        self.release_stale()
        with self.db.session() as s:
            stmt = select(Ticket)
            if status:
                stmt = stmt.where(Ticket.status == status)
            else:
                stmt = stmt.where(Ticket.status.in_(OPEN_STATUSES))
            if assignee:
                stmt = stmt.where(Ticket.assignee == assignee)
            return list(s.scalars(stmt.order_by(Ticket.sla_due_at.is_(None), Ticket.sla_due_at, Ticket.id)
                                  .limit(limit)))

    def counts(self) -> dict[str, int]:
        with self.db.session() as s:
            counts = dict(s.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).all())
            overdue = s.scalar(select(func.count()).select_from(Ticket).where(
                Ticket.status == "new", Ticket.sla_due_at < self.clock())) or 0
            return {**{k: counts.get(k, 0) for k in ("new", "assigned", "waiting", "resolved", "closed")},
                    "overdue": overdue, "agents_online": self._online_agents(s)}

    def _claim_in(self, s: Session, ticket_id: int, agent: str) -> bool:
        if s.get_bind().dialect.name == "postgresql":
            locked = s.scalar(select(Ticket.id).where(Ticket.id == ticket_id, Ticket.status == "new")
                              .with_for_update(skip_locked=True))
            if locked is None:
                return False
        won = s.execute(update(Ticket).where(Ticket.id == ticket_id, Ticket.status == "new", Ticket.assignee == "")
                        .values(status="assigned", assignee=agent, claimed_at=self.clock())
                        .execution_options(synchronize_session=False))
        return won.rowcount == 1

    def claim(self, ticket_id: int, agent: str) -> Ticket:
        """Exactly one agent wins a ticket; the others get 409."""
        with self.db.session() as s:
            won = self._claim_in(s, ticket_id, agent)
        ticket = self.get(ticket_id)
        if not won:
            raise HandoffError(f"工单 {ticket_id} 已被 {ticket.assignee or '他人'} 接起或不在队列中 / "
                               f"ticket {ticket_id} is taken or not in the queue")
        self._after_claim(ticket)
        return ticket

    def claim_next(self, agent: str) -> Ticket | None:
        """The most urgent queued ticket in the agent's skill groups (any, without skills); None: empty."""
        with self.db.session() as s:
            me = s.get(Agent, agent)
            stmt = select(Ticket.id).where(Ticket.status == "new")
            if me is not None and me.skills:
                stmt = stmt.where(or_(Ticket.skill_group.in_(me.skills), Ticket.skill_group == ""))
            stmt = stmt.order_by(Ticket.sla_due_at.is_(None), Ticket.sla_due_at, Ticket.id).limit(1)
            if s.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            ticket_id = s.scalar(stmt)
            won = ticket_id is not None and self._claim_in(s, ticket_id, agent)
        if not won:
            return None
        ticket = self.get(ticket_id)
        self._after_claim(ticket)
        return ticket

    def _after_claim(self, ticket: Ticket) -> None:
        self.set_mode(ticket.sender_id, "human")
        self._announce(ticket, "claimed")
        self._tell_citizen(ticket, "agent_joined", AGENT_JOINED.format(agent=ticket.assignee), agent=ticket.assignee)

    def take_over(self, sender_id: str, agent: str, transcript: list[dict]) -> Ticket:
        """An agent picks up a live conversation the bot is handling (`transcript`: the conversation so far)."""
        with self.db.session() as s:
            conv = s.get(Conversation, sender_id)
            if conv is None:
                raise HandoffError(f"会话 {sender_id} 不存在 / no conversation {sender_id}", 404)
            channel = conv.channel
        opened = self.open(sender_id, channel, "handoff", "agent", transcript, assignee=agent)
        if not opened.new:
            return self.claim(opened.ticket.id, agent) if opened.ticket.status == "new" else opened.ticket
        self._tell_citizen(opened.ticket, "agent_joined", AGENT_JOINED.format(agent=agent), agent=agent)
        return opened.ticket

    def _held_by(self, s: Session, ticket_id: int, agent: str, statuses: tuple[str, ...] = OPEN_STATUSES) -> Ticket:
        ticket = s.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None:
            raise HandoffError(f"工单 {ticket_id} 不存在 / no ticket {ticket_id}", 404)
        if ticket.status not in statuses:
            raise HandoffError(f"工单 {ticket_id} 当前状态为 {ticket.status} / ticket is {ticket.status}")
        if ticket.assignee != agent:
            raise HandoffError(f"工单 {ticket_id} 不在你名下，请先接单 / claim ticket {ticket_id} first", 403)
        return ticket

    async def reply(self, ticket_id: int, agent: str, text: str) -> TicketMessage:
        """The agent's message, through the citizen's own channel; a failed delivery is kept and shown."""
        with self.db.session() as s:
            ticket = self._held_by(s, ticket_id, agent)
            ticket.status = "waiting"
            ticket.first_response_at = ticket.first_response_at or self.clock()
            sender_id = ticket.sender_id
        delivered: Delivered = await self.deliveries.send(
            sender_id, {"type": "message", "author": "agent", "agent": agent, "text": text, "ticket": ticket_id})
        with self.db.session() as s:
            message = TicketMessage(ticket_id=ticket_id, sender_id=sender_id, author="agent", agent=agent,
                                    text=mask_personal_data(text),
                                    delivery=delivered.via if delivered.ok else "failed", error=delivered.error[:200])
            s.add(message)
        self.hub.publish(QUEUE_TOPIC, {"type": "message", "id": ticket_id, "sender_id": sender_id, "author": "agent",
                                       "delivery": message.delivery, "error": message.error})
        return message

    def relate(self, ticket_id: int, code: str) -> None:
        """A knowledge-base item the ticket drew on or created."""
        with self.db.session() as s:
            ticket = s.get_one(Ticket, ticket_id)
            if code not in ticket.related_codes:
                ticket.related_codes = [*ticket.related_codes, code]

    def note(self, ticket_id: int, agent: str, text: str) -> TicketMessage:
        with self.db.session() as s:
            if s.get(Ticket, ticket_id) is None:
                raise HandoffError(f"工单 {ticket_id} 不存在 / no ticket {ticket_id}", 404)
            message = TicketMessage(ticket_id=ticket_id, sender_id="", author="note", agent=agent,
                                    text=mask_personal_data(text))
            s.add(message)
        return message

    def _finish(self, ticket_id: int, agent: str, status: str, by: str, resolution: str = "",
                category: str = "") -> Ticket:
        with self.db.session() as s:
            ticket = (self._held_by(s, ticket_id, agent, (*OPEN_STATUSES, "resolved")) if by == "agent"
                      else s.get_one(Ticket, ticket_id, with_for_update=True))
            if category:
                if category not in CATEGORIES:
                    raise HandoffError(f"分类应为 {'/'.join(CATEGORIES)} 之一 / unknown category", 422)
                ticket.category = category
            ticket.status, ticket.resolution = status, mask_personal_data(resolution) or ticket.resolution
            ticket.closed_at = self.clock()
            conv = s.get(Conversation, ticket.sender_id)
            if conv is not None:
                conv.mode = "bot"
        self._announce(ticket, status)
        if by == "agent":
            self._tell_citizen(ticket, "ended", ENDED, rate=True)
        return ticket

    async def close(self, ticket_id: int, agent: str, resolution: str, category: str) -> Ticket:
        """Closed with its category and resolution; the conversation is back with the bot and the citizen is
        asked to rate the human service (a WeChat citizen is told through the customer-service API)."""
        ticket = self._finish(ticket_id, agent, "closed", "agent", resolution, category)
        if any(s.handles(ticket.sender_id) for s in self.deliveries.senders):
            await self.deliveries.send(ticket.sender_id, {"type": "message", "author": "system", "text": ENDED})
        return ticket

    def hand_back(self, ticket_id: int, agent: str) -> Ticket:
        """The agent returns the conversation to the bot; the ticket is resolved (it may still be closed)."""
        return self._finish(ticket_id, agent, "resolved", "agent")

    def reopen(self, ticket_id: int, agent: str) -> Ticket:
        with self.db.session() as s:
            ticket = s.get(Ticket, ticket_id, with_for_update=True)
            if ticket is None or ticket.status not in ("resolved", "closed"):
                raise HandoffError("只能重开已解决或已关闭的工单 / only a resolved or closed ticket can be reopened")
            other = s.scalar(select(Ticket.id).where(Ticket.sender_id == ticket.sender_id,
                                                     Ticket.status.in_(OPEN_STATUSES)))
            if other is not None:
                raise HandoffError(f"该市民已有进行中的工单 {other} / the citizen has open ticket {other}")
            ticket.status, ticket.assignee, ticket.closed_at = "assigned", agent, None
            ticket.claimed_at = self.clock()
            s.get_one(Conversation, ticket.sender_id).mode = "human"
        self._announce(ticket, "reopened")
        self._tell_citizen(ticket, "agent_joined", AGENT_JOINED.format(agent=agent), agent=agent)
        return ticket

    def transfer(self, ticket_id: int, agent: str, to_agent: str = "", to_group: str = "") -> Ticket:
        """To another agent (it is theirs at once) or back to the queue of a skill group."""
        if not (to_agent or to_group):
            raise HandoffError("请指定转给的客服或技能组 / name an agent or a skill group", 422)
        with self.db.session() as s:
            ticket = self._held_by(s, ticket_id, agent)
            if to_agent:
                ticket.assignee, ticket.status, ticket.claimed_at = to_agent, "assigned", self.clock()
            else:
                ticket.assignee, ticket.status, ticket.claimed_at = "", "new", None
            if to_group:
                ticket.skill_group = to_group
            s.add(TicketMessage(ticket_id=ticket_id, sender_id="", author="note", agent=agent,
                                text=f"转给 {to_agent or '队列'}{f'（{to_group}）' if to_group else ''}"))
        self._announce(ticket, "transferred", by=agent)
        return ticket

    # ---- presence -------------------------------------------------------------------------------------
    def heartbeat(self, agent: str, skills: list[str] | None = None) -> None:
        with self.db.session() as s:
            me = s.get(Agent, agent) or Agent(name=agent, skills=[])
            me.online, me.last_seen_at = True, self.clock()
            if skills is not None:
                me.skills = skills
            s.add(me)

    def offline(self, agent: str) -> list[int]:
        """The agent leaves: their open tickets go back to the queue."""
        with self.db.session() as s:
            me = s.get(Agent, agent)
            if me is not None:
                me.online = False
            released = list(s.scalars(select(Ticket).where(Ticket.assignee == agent,
                                                           Ticket.status.in_(("assigned", "waiting")))))
            for ticket in released:
                ticket.assignee, ticket.status, ticket.claimed_at = "", "new", None
        for ticket in released:
            self._announce(ticket, "released", by=agent)
        return [t.id for t in released]

    def release_stale(self) -> list[int]:
        """Agents whose console has been silent too long are offline (their tickets are queued again)."""
        with self.db.session() as s:
            stale = list(s.scalars(select(Agent.name).where(
                Agent.online, Agent.last_seen_at < self.clock() - PRESENCE_TIMEOUT)))
        return [tid for name in stale for tid in self.offline(name)]

    def live_conversations(self, within: dt.timedelta = dt.timedelta(minutes=30), limit: int = 50) -> list[Conversation]:
        """Conversations the bot is handling now, for an agent to pick up."""
        with self.db.session() as s:
            return list(s.scalars(select(Conversation).where(
                Conversation.mode == "bot", Conversation.last_active_at >= self.clock() - within)
                .order_by(Conversation.last_active_at.desc()).limit(limit)))

