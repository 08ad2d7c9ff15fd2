// Lint rules that keep the project fast and the modules honest: typescript-eslint's recommended rules on the
// TypeScript, eslint's recommended rules on the JavaScript (CommonJS .js, ES modules .mjs, both run by Node).
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "cdktf.out/", "coverage/", "examples/app/dist/"] },
  {
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [
            {
              name: "@cdktf/provider-aws",
              message:
                "Import provider classes from '@cdktf/provider-aws/lib/<resource>': the package root costs ~5 s and ~550 MB per process.",
            },
            {
              name: "@cdktf/provider-aws/lib",
              message: "Import provider classes from '@cdktf/provider-aws/lib/<resource>'.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.ts"],
    extends: [...tseslint.configs.recommended],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2023, globals: globals.node },
    rules: {
      "no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  { files: ["**/*.js"], languageOptions: { sourceType: "commonjs" } },
  { files: ["**/*.mjs"], languageOptions: { sourceType: "module" } },
  {
    files: ["modules/**/*.ts", "environments/**/*.ts"],
    rules: {
      "no-restricted-properties": [
        "error",
        {
          object: "process",
          property: "env",
          message: "Modules and environments are plain inputs: read the process environment in main.ts only.",
        },
      ],
    },
  },
);
