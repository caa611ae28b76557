// The browser code is built into static files that Django serves (WhiteNoise); pages load them with
// {% static 'frontend/dist/<entry>.js' %}, so names carry no hash and the build is git-ignored.
import { defineConfig } from "vite";

export default defineConfig({
  publicDir: false,
  build: {
    outDir: "static/frontend/dist",
    emptyOutDir: true,
    sourcemap: true,
    target: "es2022",
    rollupOptions: {
      input: {
        annotator: "src/annotator.ts",
        review: "src/review.ts",
        models: "src/models.ts",
        gallery: "src/gallery.ts",
        jobs: "src/jobs.ts",
        imports: "src/imports.ts",
      },
      output: {
        entryFileNames: "[name].js",
        chunkFileNames: "[name].js",
        assetFileNames: "[name][extname]",
      },
    },
  },
});
