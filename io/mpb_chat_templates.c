/* Chat templates mpiblend knows by name, for `chat_template:`; the config
 * parser checks names against them, the tokenizer step writes them. */
#include "mpb_chat_templates.h"

#include <stddef.h>
#include <string.h>

/* Written for mpiblend from each format's published layout. */
static const struct {
    const char *name, *text;
} named_templates[] = {
    {"chatml",
     "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
     "message['content'] + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}"
     "{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"llama3",
     "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
     "'<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
     "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
     "{% endif %}"},
    {"alpaca",
     "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}"
     "{{ message['content'] + '\\n\\n' }}{% elif message['role'] == 'user' %}"
     "{{ '### Instruction:\\n' + message['content'] + '\\n\\n' }}"
     "{% elif message['role'] == 'assistant' %}"
     "{{ '### Response:\\n' + message['content'] + eos_token + '\\n\\n' }}{% endif %}"
     "{% endfor %}{% if add_generation_prompt %}{{ '### Response:\\n' }}{% endif %}"},
    {"mistral",
     "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}"
     "{{ message['content'] + '\\n\\n' }}{% elif message['role'] == 'user' %}"
     "{{ '[INST] ' + message['content'] + ' [/INST]' }}"
     "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}"
     "{% endfor %}"},
};

#define N_TEMPLATES (sizeof named_templates / sizeof named_templates[0])

const char *mpb_chat_template_named(const char *name)
{
    for (size_t i = 0; i < N_TEMPLATES; i++)
        if (strcmp(name, named_templates[i].name) == 0)
            return named_templates[i].text;
    return NULL;
}

const char *mpb_chat_template_names(void)
{
    return "chatml, llama3, alpaca, mistral";
}
