/* Chat templates known by name (docs/CONFIG.md, "Tokenizer and chat
 * template"): plain data, no I/O. */
#ifndef MPB_CHAT_TEMPLATES_H
#define MPB_CHAT_TEMPLATES_H

/* The text of a template mpiblend knows by name (chatml, llama3, alpaca,
 * mistral); NULL otherwise. */
const char *mpb_chat_template_named(const char *name);
/* "chatml, llama3, alpaca, mistral" for messages. */
const char *mpb_chat_template_names(void);

#endif
