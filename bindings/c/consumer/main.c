/* Loads the default model of an installed cmfseg and prints what it is and where it came
 * from. Exit status 0 only if it loads and carries its provenance. */
#include <cmfseg.h>
#include <stdio.h>

int main(void) {
    cmf_model *model = NULL;
    if (cmf_model_load_default(&model) != CMF_OK) {
        fprintf(stderr, "default model: %s\n", cmf_last_error_message());
        return 1;
    }
    const char *steps = cmf_model_metadata(model, "training_steps");
    const char *dice = cmf_model_metadata(model, "validation_dice");
    printf("cmfseg %s, default model %s trained %s steps, validation Dice %s\n", cmf_version(),
           cmf_model_architecture(model), steps ? steps : "?", dice ? dice : "?");
    int ok = steps != NULL && dice != NULL;
    cmf_model_free(model);
    return ok ? 0 : 1;
}
