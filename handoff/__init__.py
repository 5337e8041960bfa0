"""Human hand-off: who answers a conversation (bot or agent), the ticket queue, the agent console, and
answers that become knowledge."""
