"""Business rules of the bot, free of Rasa: dates, age, catalogue matching,
masking, priority, the handoff summary and its delivery."""
